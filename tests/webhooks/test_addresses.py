"""The request goes to the address that was checked, never to a second DNS answer, and
https keeps checking the receiver's certificate against the URL's host name."""

import datetime
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tasks_app import services as task_services
from webhooks.models import Delivery, DeliveryStatus
from webhooks.services import delivery_send
from webhooks.urlcheck import post_to_checked_address

pytestmark = pytest.mark.django_db


def test_the_request_connects_to_the_checked_address_without_resolving_again(receiver):
    receiver.start()
    # A host name that resolves nowhere: only the address given is used.
    url = f"http://webhook.invalid:{receiver.port}/hook"
    response = post_to_checked_address(
        url, "127.0.0.1", data=b"{}", headers={"X-Test": "1"}, timeout=2
    )
    assert response.status_code == 200
    assert receiver.received[0]["headers"]["Host"] == f"webhook.invalid:{receiver.port}"


@pytest.fixture
def tls_for_localhost(tmp_path, monkeypatch):
    """A CA and a server certificate for "localhost" it issued; requests trusts the CA."""
    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject, issuer, key, signing_key, *, ca):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
            )
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("Test CA", "Test CA", ca_key, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = certificate("localhost", "Test CA", server_key, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "server.pem").write_bytes(server.public_bytes(pem))
    (tmp_path / "server.key").write_bytes(
        server_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca.pem"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    return context


def _delivery_to(url, endpoint_for, task):
    endpoint_for(url, name=url)
    task_services.task_update_fields(task=task, expected_version=None, title=f"Gửi tới {url}")
    return Delivery.objects.get(endpoint__url=url)


def test_https_checks_the_certificate_against_the_urls_host_name(
    receiver, tls_for_localhost, endpoint_for, task
):
    receiver.start(tls=tls_for_localhost)
    good = _delivery_to(f"https://localhost:{receiver.port}/hook", endpoint_for, task)
    delivery_send(delivery_id=good.pk)
    good.refresh_from_db()
    assert good.status == DeliveryStatus.DELIVERED
    assert receiver.received[0]["headers"]["Host"] == f"localhost:{receiver.port}"

    # The same server reached as 127.0.0.1: its certificate does not name that host.
    wrong = _delivery_to(f"https://127.0.0.1:{receiver.port}/hook", endpoint_for, task)
    delivery_send(delivery_id=wrong.pk)
    wrong.refresh_from_db()
    assert wrong.status == DeliveryStatus.PENDING
    assert "SSLError" in wrong.attempts.get().error
    assert len(receiver.received) == 1
