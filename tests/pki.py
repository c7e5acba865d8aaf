"""A throwaway PKI for the tests of the report's digital signature (reports/signing.py): a CA
and a signing certificate it issued, as PKCS#12, and pyHanko's verdict on a signed PDF
trusting that CA only."""

import datetime
import io

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from reports.signing import outside_event_loop

UTC = datetime.UTC


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer,
        content_commitment=signer,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


class Pki:
    """A CA and a signing certificate it issued, valid from 2025-01-01 to a year from now."""

    def __init__(self, signer_cn: str):
        not_before = datetime.datetime(2025, 1, 1, tzinfo=UTC)
        self.not_after = timezone.now() + datetime.timedelta(days=365)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(_name("CA của bộ kiểm thử"))
            .issuer_name(_name("CA của bộ kiểm thử"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(self.not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(signer=False), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(signer_cn))
            .issuer_name(self.ca.subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(self.not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(signer=True), critical=True)
            .sign(ca_key, hashes.SHA256())
        )

    def pkcs12(self, passphrase: str) -> bytes:
        return pkcs12.serialize_key_and_certificates(
            b"signer",
            self.key,
            self.certificate,
            [self.ca],
            serialization.BestAvailableEncryption(passphrase.encode()),
        )


def validate_signature(content: bytes, ca: x509.Certificate):
    """The one embedded signature and pyHanko's verdict on it, trusting `ca` only."""
    reader = PdfFileReader(io.BytesIO(content))
    [embedded] = reader.embedded_signatures
    root = asn1_x509.Certificate.load(ca.public_bytes(serialization.Encoding.DER))
    status = outside_event_loop(
        validate_pdf_signature, embedded, ValidationContext(trust_roots=[root])
    )
    return embedded, status
