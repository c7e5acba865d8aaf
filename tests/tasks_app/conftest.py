"""Fixtures of the API tests (test_api*.py, test_schema.py): clients that authenticate with
a token, with throttling off, and minimal real files for evidence uploads.

Nothing here is autouse: the other tests of tasks_app are not affected.
"""

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from rest_framework.test import APIClient

from tasks_app import tokens

PLAN_FILE = Path(settings.BASE_DIR) / "data" / "plan_2022.yaml"

# A minimal but complete PDF (one empty page), as a scanner would produce it.
PDF_BYTES = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n170\n%%EOF\n"
)
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082"
)
# The first bytes of a Windows program (an "MZ" header and the DOS stub message).
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + (
    b"\x00" * 48 + b"This program cannot be run in DOS mode.\r\n" + b"\x00" * 400
)


def zip_bytes(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return buffer.getvalue()


DOCX_BYTES = zip_bytes(
    {
        "[Content_Types].xml": "<Types/>",
        "_rels/.rels": "<Relationships/>",
        "word/document.xml": "<w:document/>",
    }
)


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def api_client(db, settings):
    """`api_client(user)`: an APIClient sending `Authorization: Token …` for `user`
    (anonymous without one). Throttling is off and its counters are cleared."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }
    cache.clear()

    secrets: dict[int, str] = {}

    def make(user=None, **headers) -> APIClient:
        client = APIClient(**headers)
        if user is not None:
            if user.pk not in secrets:
                token, secrets[user.pk] = tokens.token_create(user=user, name="tests")
                # Counted as used now, so that the first request of a query-count test does
                # not include the write of the "last used" time.
                tokens.token_touch(token)
            client.credentials(HTTP_AUTHORIZATION=f"Token {secrets[user.pk]}")
        return client

    yield make
    # LocaleMiddleware leaves the last request's language active in this thread.
    translation.deactivate()


@pytest.fixture
def demo_plan(db):
    """The 2022 plan loaded from data/plan_2022.yaml, with the demo accounts (password
    demo-2022) of tasks_app.demo but not its year of activity."""
    from django.core.management import call_command

    from tasks_app.demo import demo_accounts_ensure
    from tasks_app.models import Agency, Plan

    call_command("load_plan", str(PLAN_FILE), stdout=io.StringIO())
    demo_accounts_ensure(agencies={agency.code: agency for agency in Agency.objects.all()})
    return Plan.objects.get(code="CDS-ND-2022")
