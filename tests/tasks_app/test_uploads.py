"""Evidence file checks: the type is read from the content and must fit the name."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation

from tasks_app import uploads
from tests.tasks_app.conftest import (
    DOCX_BYTES,
    EXE_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    upload,
    zip_bytes,
)

JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 64
GIF_BYTES = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\0" * 32
WEBP_BYTES = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\0" * 32
OLE2_BYTES = bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 600
XLSX_BYTES = zip_bytes({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<w/>"})
PPTX_BYTES = zip_bytes({"[Content_Types].xml": "<Types/>", "ppt/presentation.xml": "<p/>"})
ODT_BYTES = zip_bytes({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "x"})
ODS_BYTES = zip_bytes(
    {"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "x"}
)
DOCM_BYTES = zip_bytes(
    {
        "[Content_Types].xml": "<Types/>",
        "word/document.xml": "<w/>",
        "word/vbaProject.bin": "macro",
    }
)
PLAIN_ZIP = zip_bytes({"readme.txt": "hello"})


def check(name, content):
    return uploads.check_evidence_file(name=name, size=len(content), content=content)


@pytest.mark.parametrize(
    ("name", "content", "mime"),
    [
        ("quyet-dinh.pdf", PDF_BYTES, "application/pdf"),
        ("QUYET-DINH.PDF", PDF_BYTES, "application/pdf"),
        ("anh.png", PNG_BYTES, "image/png"),
        ("anh.jpg", JPEG_BYTES, "image/jpeg"),
        ("anh.jpeg", JPEG_BYTES, "image/jpeg"),
        ("anh.gif", GIF_BYTES, "image/gif"),
        ("anh.webp", WEBP_BYTES, "image/webp"),
        ("bao-cao.docx", DOCX_BYTES, uploads.DOCX.mime),
        ("so-lieu.xlsx", XLSX_BYTES, uploads.XLSX.mime),
        ("trinh-bay.pptx", PPTX_BYTES, uploads.PPTX.mime),
        ("van-ban.odt", ODT_BYTES, uploads.ODT.mime),
        ("bang.ods", ODS_BYTES, uploads.ODS.mime),
        ("cu.doc", OLE2_BYTES, "application/msword"),
        ("cu.xls", OLE2_BYTES, "application/vnd.ms-excel"),
        ("cu.ppt", OLE2_BYTES, "application/vnd.ms-powerpoint"),
    ],
)
def test_accepted_kinds_are_recognised_by_content(name, content, mime):
    assert check(name, content) == mime


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bao-cao.pdf", EXE_BYTES),  # a program renamed
        ("setup.exe", EXE_BYTES),
        ("ghi-chu.txt", b"just text"),
        ("trang.html", b"<html><script>alert(1)</script></html>"),
        ("nen.zip", PLAIN_ZIP),  # a ZIP that is not an office document
        ("bao-cao.docx", PLAIN_ZIP),
        ("macro.docm", DOCM_BYTES),  # macros are code
        ("macro.docx", DOCM_BYTES),
        ("cai-dat.msi", OLE2_BYTES),  # OLE2 that is not a legacy office file
        ("hong.docx", b"PK\x03\x04 broken archive"),
    ],
)
def test_other_content_is_refused(name, content):
    with pytest.raises(ValidationError):
        check(name, content)


@pytest.mark.parametrize(
    ("name", "content", "ext"),
    [
        ("bao-cao.docx", PDF_BYTES, "pdf"),
        ("anh.pdf", PNG_BYTES, "png"),
        ("khong-duoi", PDF_BYTES, "pdf"),
    ],
)
def test_a_name_that_does_not_fit_the_content_is_refused_with_the_right_extension(
    name, content, ext
):
    with translation.override("en"), pytest.raises(ValidationError) as error:
        check(name, content)
    assert error.value.messages == [
        f"The name of “{name}” does not match its content; name it with .{ext}."
    ]


def test_the_message_for_a_renamed_program_names_the_file_and_the_accepted_kinds():
    with translation.override("en"), pytest.raises(ValidationError) as error:
        check("bao-cao.pdf", EXE_BYTES)
    [message] = error.value.messages
    assert "“bao-cao.pdf” is not an accepted file" in message
    assert "PDF" in message and "Word" in message


@override_settings(EVIDENCE_MAX_MB=1)
def test_size_is_limited_by_settings_and_an_oversize_file_is_not_read():
    big = upload("lon.pdf", PDF_BYTES + b"0" * (1024 * 1024))
    with translation.override("en"), pytest.raises(ValidationError) as error:
        uploads.evidence_uploads([big])
    assert error.value.messages == ["“lon.pdf” is larger than 1 MB."]
    assert big.tell() == 0


def test_an_empty_file_is_refused():
    with pytest.raises(ValidationError):
        uploads.evidence_uploads([upload("rong.pdf", b"")])


def test_every_refused_file_is_reported_and_accepted_ones_are_typed_by_content():
    with translation.override("en"), pytest.raises(ValidationError) as error:
        uploads.evidence_uploads([upload("a.pdf", EXE_BYTES), upload("b.txt", b"x")])
    assert len(error.value.messages) == 2
    [accepted] = uploads.evidence_uploads([upload("C:\\scan\\a.pdf", PDF_BYTES, "text/html")])
    assert (accepted.name, accepted.content_type) == ("a.pdf", "application/pdf")
    assert accepted.content == PDF_BYTES


def test_at_most_ten_files_at_a_time():
    with pytest.raises(ValidationError):
        uploads.evidence_uploads([upload(f"{n}.pdf", PDF_BYTES) for n in range(11)])
