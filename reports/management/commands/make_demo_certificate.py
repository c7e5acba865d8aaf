"""`manage.py make_demo_certificate [PATH] [--agency NAME] [--force]`.

Writes a throwaway signing certificate for trying the digital signature of issued reports
(reports/signing.py) without a real one: a demo CA and a certificate it issues to the agency
(RSA 2048, valid two years), whose common name says it is a test certificate. Files, all
readable by the owner only:

- PATH (default var/signing/demo-signing.p12): PKCS#12 with the key, the certificate and the
  demo CA, encrypted with a random passphrase;
- PATH with the suffix .passphrase: that passphrase (REPORT_SIGNING_PASSPHRASE);
- PATH with the suffix .ca.pem: the demo CA's certificate, to trust it in a PDF reader.

The demo CA's private key is thrown away: it signs nothing else. Safe to run again: an
existing certificate is kept unless --force is given. `make run` (scripts/run.sh) calls it
on the first run and points REPORT_SIGNING_PKCS12 and REPORT_SIGNING_PASSPHRASE at it.
"""

from __future__ import annotations

import datetime
import os
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

# The agency of the demo accounts that issues reports today (README: skhcn).
DEMO_AGENCY = "Sở Khoa học và Công nghệ tỉnh Ninh Bình"
# Certificate names are document text, in Vietnamese whatever the operator's language.
# The common name says DEMO; the organisational unit says what that means.
DEMO_MARK = "DEMO"
DEMO_UNIT = "CHỨNG THƯ THỬ NGHIỆM - DEMO"
DEMO_CA_NAME = "CA thử nghiệm plan_tracker (DEMO)"
# The cryptography library caps a common name and an organisation name at 64 bytes of UTF-8
# (a Vietnamese letter with its marks takes 2 or 3).
NAME_LIMIT = 64
VALIDITY = datetime.timedelta(days=730)
# Valid from a year back: the demo archive (manage.py demo_reports) issues and signs the
# current plan's past months at their dates of issue.
BACKDATE = datetime.timedelta(days=366)


def default_path() -> Path:
    return Path(settings.VAR_DIR) / "signing" / "demo-signing.p12"


def passphrase_path(path: Path) -> Path:
    return path.with_suffix(".passphrase")


def ca_path(path: Path) -> Path:
    return path.with_suffix(".ca.pem")


def demo_common_name(agency: str) -> str:
    return f"{agency} ({DEMO_MARK})"


def demo_certificate(agency: str, now: datetime.datetime, passphrase: bytes):
    """(PKCS#12 bytes, CA certificate PEM, the signing certificate) of a new demo CA and a
    certificate it issues to `agency`."""
    not_before, not_after = now - BACKDATE, now + VALIDITY

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "plan_tracker DEMO"),
            x509.NameAttribute(NameOID.COMMON_NAME, DEMO_CA_NAME),
        ]
    )
    ca_certificate = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEMO_UNIT),
                    x509.NameAttribute(NameOID.COMMON_NAME, demo_common_name(agency)),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # non-repudiation: the agency stands by the report
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )

    bundle = pkcs12.serialize_key_and_certificates(
        name=b"demo-signing",
        key=key,
        cert=certificate,
        cas=[ca_certificate],
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
    )
    return bundle, ca_certificate.public_bytes(serialization.Encoding.PEM), certificate


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` readable by the owner only, replacing it whole (a temporary
    file in the same folder, then a rename)."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)  # an older temporary file may have had another mode
    os.replace(temporary, path)


class Command(BaseCommand):
    help = (
        "Write a throwaway demo signing certificate (PKCS#12, random passphrase beside it) "
        "for trying the digital signature of reports. Keeps an existing one unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            help="PKCS#12 file to write (default: var/signing/demo-signing.p12).",
        )
        parser.add_argument(
            "--agency",
            default=DEMO_AGENCY,
            help="Name of the agency the certificate is issued to.",
        )
        parser.add_argument("--force", action="store_true", help="Replace an existing certificate.")

    def handle(self, *args, path: str | None, agency: str, force: bool, **options):
        target = Path(path) if path else default_path()
        if not agency.strip() or len(demo_common_name(agency).encode()) > NAME_LIMIT:
            raise CommandError(
                _(
                    "The agency name must fit in a certificate's common name: at most {limit} "
                    "bytes in UTF-8 with the demo mark {mark} (a Vietnamese letter takes 2 or 3)."
                ).format(limit=NAME_LIMIT, mark=repr(demo_common_name("").strip()))
            )
        secret_file = passphrase_path(target)

        # 1. An existing certificate is kept, as long as its passphrase is there too.
        if target.exists() and not force:
            if not secret_file.exists():
                raise CommandError(
                    _(
                        "{path} exists but its passphrase file {passphrase} is missing: run "
                        "again with --force to make a new demo certificate."
                    ).format(path=target, passphrase=secret_file)
                )
            self.stdout.write(
                _("Kept the demo signing certificate {path} (--force makes a new one).").format(
                    path=target
                )
            )
            return

        # 2. New key, certificate and passphrase. The passphrase goes first: the PKCS#12
        #    file, written last, is what marks the set as complete.
        passphrase = secrets.token_urlsafe(24)
        bundle, ca_pem, certificate = demo_certificate(agency, timezone.now(), passphrase.encode())
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_private(secret_file, passphrase.encode())
        _write_private(ca_path(target), ca_pem)
        _write_private(target, bundle)

        valid_until = timezone.localtime(certificate.not_valid_after_utc).strftime("%d/%m/%Y")
        self.stdout.write(
            _(
                "Wrote a demo signing certificate for {agency} to {path}, valid until {date}; "
                "its passphrase is in {passphrase} and its demo CA in {ca}. It is a test "
                "certificate: a signature made with it has no legal value."
            ).format(
                agency=agency,
                path=target,
                date=valid_until,
                passphrase=secret_file,
                ca=ca_path(target),
            )
        )
