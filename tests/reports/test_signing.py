"""The digital signature of an issued report (reports/signing.py): a real WeasyPrint PDF
signed with a throwaway CA's certificate by pyHanko, then checked with pyHanko's validator
(trusting that CA) and read back with poppler (pdftotext)."""

# The fixtures imported from test_pdf are parameters of the tests below.
# ruff: noqa: F811

from __future__ import annotations

import datetime
import html
import io
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.status import SignatureCoverageLevel

from reports.pdf import SignatureBox, render_pdf
from reports.signing import SignedPdf, SigningError, sign_report_pdf, signing_configured
from tests.pki import Pki, validate_signature
from tests.reports.test_pdf import fake_pdf, vietnamese  # noqa: F401

UTC = datetime.UTC
ICT = datetime.timezone(datetime.timedelta(hours=7))
MM = 72 / 25.4
AGENCY = "Sở Khoa học và Công nghệ tỉnh Ninh Bình"
SIGNER_CN = "Sở Thử nghiệm tỉnh Ninh Bình (kiểm thử)"
# 02:30:05 UTC is 09:30:05 in Asia/Ho_Chi_Minh.
SIGNED_AT = datetime.datetime(2025, 7, 1, 2, 30, 5, tzinfo=UTC)
PASSPHRASE = "mật-khẩu thử"

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)"
)

# A two-page report-like document: the signature box opens page 2, 100 mm from the left
# margin, between the signer's title and name (A4, 20 mm margins).
REPORT_HTML = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><style>
  @page { size: A4; margin: 20mm; }
  body { margin: 0; font-family: "Liberation Serif"; font-size: 13pt; }
  #signature-box { margin-left: 100mm; width: 60mm; height: 30mm; }
</style></head><body>
  <p>BÁO CÁO Tình hình thực hiện nhiệm vụ chuyển đổi số tháng 06/2025</p>
  <p>Trên đây là báo cáo của Sở Khoa học và Công nghệ./.</p>
  <p style="break-before: page; margin: 0 0 0 100mm; height: 10mm">PHÓ GIÁM ĐỐC</p>
  <div id="signature-box" class="signature-box"></div>
  <p style="margin: 0 0 0 100mm">Nguyễn Văn A</p>
</body></html>"""


# --- A throwaway PKI -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki():
    return Pki(SIGNER_CN)


@pytest.fixture
def configured(pki, settings, tmp_path):
    """The test certificate configured as the agency's: REPORT_SIGNING_* set."""
    path = tmp_path / "agency.p12"
    path.write_bytes(pki.pkcs12(PASSPHRASE))
    settings.REPORT_SIGNING_PKCS12 = str(path)
    settings.REPORT_SIGNING_PASSPHRASE = PASSPHRASE
    settings.REPORT_SIGNING_SEAL_IMAGE = ""
    return path


@pytest.fixture(scope="module")
def rendered():
    return render_pdf(REPORT_HTML)


# --- Reading the signed file back ----------------------------------------------------------


def _widget(content: bytes) -> tuple[int, tuple[float, ...]]:
    """Page index and /Rect of the signature's widget annotation, found on the pages."""
    reader = PdfFileReader(io.BytesIO(content))
    found = []
    for index in range(int(reader.root["/Pages"]["/Count"])):
        page = reader.find_page_for_modification(index)[0].get_object()
        for annotation in page.get("/Annots", []):
            annotation = annotation.get_object()
            if annotation.get("/Subtype") == "/Widget" and annotation.get("/FT") == "/Sig":
                found.append((index, tuple(float(v) for v in annotation["/Rect"])))
    [widget] = found
    return widget


def _pdftotext(content: bytes, folder: Path, *args: str) -> str:
    path = folder / "signed.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", *args, str(path), "-"], capture_output=True, check=True
    ).stdout.decode()


WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def _words(content: bytes, folder: Path, page: int) -> list[tuple[str, tuple[float, ...]]]:
    """Each word (or stamp line) of a page with its box in PDF points from the bottom left."""
    out = _pdftotext(content, folder, "-bbox", "-f", str(page + 1), "-l", str(page + 1))
    height = float(re.search(r'<page width="[\d.]+" height="([\d.]+)"', out).group(1))
    return [
        (html.unescape(text), (float(x0), height - float(y1), float(x1), height - float(y0)))
        for x0, y0, x1, y1, text in WORD.findall(out)
    ]


def _inside(inner: tuple[float, ...], outer: tuple[float, ...], slack: float = 0.5) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


# --- Where the signature goes -----------------------------------------------------------------


def test_render_pdf_gives_the_signature_box_in_pdf_points(rendered):
    box = rendered.signature_box
    assert rendered.pages == 2
    assert box.page == 1
    # 20 mm margin + 100 mm from the left, 60 × 30 mm, below the 10 mm title of page 2.
    assert box.x0 == pytest.approx(120 * MM, abs=0.05)
    assert box.x1 == pytest.approx(180 * MM, abs=0.05)
    assert box.y1 == pytest.approx((297 - 30) * MM, abs=0.05)
    assert box.y0 == pytest.approx((297 - 60) * MM, abs=0.05)
    assert box.rect == (box.x0, box.y0, box.x1, box.y1)


def test_render_pdf_without_a_signature_box_gives_none():
    assert render_pdf("<p>Không có chỗ ký</p>").signature_box is None


# --- Signing ------------------------------------------------------------------------------------


@needs_poppler
@pytest.mark.pdf
def test_the_signed_report_is_a_valid_pades_signature_over_the_whole_file(
    configured, pki, rendered, tmp_path
):
    assert signing_configured()
    signed = sign_report_pdf(
        rendered.content, box=rendered.signature_box, agency_name=AGENCY, signed_at=SIGNED_AT
    )
    assert isinstance(signed, SignedPdf)
    assert signed.signer == SIGNER_CN
    assert signed.signed_at == SIGNED_AT
    # An incremental update: the rendered report is untouched at the start of the file.
    assert signed.content.startswith(rendered.content)
    assert len(signed.content) > len(rendered.content)

    embedded, status = validate_signature(signed.content, pki.ca)
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.subject.native["common_name"] == SIGNER_CN
    assert status.md_algorithm == "sha256"
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    # The signing time written in the signature is signed_at, the time the stamp shows.
    assert status.signer_reported_dt == SIGNED_AT


@needs_poppler
@pytest.mark.pdf
def test_the_stamp_stands_in_the_signature_box_and_the_report_still_reads(
    configured, rendered, tmp_path
):
    signed = sign_report_pdf(
        rendered.content, box=rendered.signature_box, agency_name=AGENCY, signed_at=SIGNED_AT
    )
    box = rendered.signature_box
    page, rect = _widget(signed.content)
    assert page == box.page == 1
    assert _inside(rect, box.rect, slack=0.01)

    # The stamp's lines, with every Vietnamese letter, in Asia/Ho_Chi_Minh time, all inside
    # the box (glyph widths in the embedded font's own units would spread them past it).
    report_words = {"PHÓ", "GIÁM", "ĐỐC", "Nguyễn", "Văn", "A"}
    stamp = [
        (text, where)
        for text, where in _words(signed.content, tmp_path, 1)
        if text not in report_words
    ]
    assert all(_inside(where, rect) for _text, where in stamp), stamp
    stamp_text = " ".join(text for text, _where in stamp)
    assert "Ký bởi: Sở Khoa học và Công nghệ tỉnh Ninh Bình" in stamp_text
    assert "Thời gian ký: 01/07/2025 09:30:05" in stamp_text

    # The report's own text is still there, unchanged.
    text = " ".join(_pdftotext(signed.content, tmp_path).split())
    assert "BÁO CÁO Tình hình thực hiện nhiệm vụ chuyển đổi số tháng 06/2025" in text
    assert "PHÓ GIÁM ĐỐC" in text
    assert "Nguyễn Văn A" in text


@needs_poppler
@pytest.mark.pdf
def test_without_a_box_the_signature_goes_bottom_right_of_the_last_page(configured, pki, rendered):
    signed = sign_report_pdf(rendered.content, box=None, agency_name=AGENCY, signed_at=SIGNED_AT)
    page, (x0, y0, x1, y1) = _widget(signed.content)
    assert page == rendered.pages - 1
    # 60 × 30 mm, 20 mm from the right edge of the A4 page and 25 mm from its bottom (in
    # whole points, rounded inwards).
    assert x1 == pytest.approx((210 - 20) * MM, abs=1)
    assert x1 - x0 == pytest.approx(60 * MM, abs=2)
    assert y0 == pytest.approx(25 * MM, abs=1)
    assert y1 - y0 == pytest.approx(30 * MM, abs=2)
    _embedded, status = validate_signature(signed.content, pki.ca)
    assert status.bottom_line


@pytest.mark.pdf
def test_the_configured_seal_image_is_drawn_in_the_stamp(configured, settings, rendered, tmp_path):
    seal = tmp_path / "con-dau.png"
    Image.new("RGBA", (37, 23), (200, 0, 0, 255)).save(seal)
    settings.REPORT_SIGNING_SEAL_IMAGE = str(seal)
    signed = sign_report_pdf(
        rendered.content, box=rendered.signature_box, agency_name=AGENCY, signed_at=SIGNED_AT
    )
    reader = PdfFileReader(io.BytesIO(signed.content))
    appearance = reader.embedded_signatures[0].sig_field["/AP"]["/N"]
    images = [
        image.get_object()
        for image in appearance["/Resources"]["/XObject"].values()
        if image.get_object().get("/Subtype") == "/Image"
    ]
    assert [(image["/Width"], image["/Height"]) for image in images] == [(37, 23)]


# --- Not signing --------------------------------------------------------------------------------


def test_without_a_certificate_nothing_is_signed(settings, rendered):
    settings.REPORT_SIGNING_PKCS12 = ""
    assert not signing_configured()
    result = sign_report_pdf(
        rendered.content, box=rendered.signature_box, agency_name=AGENCY, signed_at=SIGNED_AT
    )
    assert result is None


def test_a_wrong_passphrase_is_a_signing_error_in_vietnamese(configured, settings, rendered):
    settings.REPORT_SIGNING_PASSPHRASE = "không phải mật khẩu"
    with translation.override("vi"), pytest.raises(SigningError) as error:
        sign_report_pdf(
            rendered.content, box=rendered.signature_box, agency_name=AGENCY, signed_at=SIGNED_AT
        )
    assert "mật khẩu không đúng" in str(error.value)
    assert str(configured) in str(error.value)


def test_a_missing_certificate_file_is_a_signing_error(configured, settings, rendered, tmp_path):
    settings.REPORT_SIGNING_PKCS12 = str(tmp_path / "khong-co.p12")
    with translation.override("vi"), pytest.raises(SigningError) as error:
        sign_report_pdf(
            rendered.content, box=rendered.signature_box, agency_name=AGENCY, signed_at=SIGNED_AT
        )
    assert "Không đọc được tệp chứng thư số" in str(error.value)
    assert "khong-co.p12" in str(error.value)


def test_an_expired_certificate_does_not_sign(configured, pki, rendered):
    after_expiry = pki.not_after + datetime.timedelta(days=1)
    with translation.override("vi"), pytest.raises(SigningError) as error:
        sign_report_pdf(
            rendered.content,
            box=rendered.signature_box,
            agency_name=AGENCY,
            signed_at=after_expiry,
        )
    assert "đã hết hạn" in str(error.value)


def test_an_unreadable_seal_image_is_a_signing_error(configured, settings, rendered, tmp_path):
    not_an_image = tmp_path / "con-dau.png"
    not_an_image.write_text("không phải ảnh")
    settings.REPORT_SIGNING_SEAL_IMAGE = str(not_an_image)
    with translation.override("vi"), pytest.raises(SigningError) as error:
        sign_report_pdf(
            rendered.content, box=rendered.signature_box, agency_name=AGENCY, signed_at=SIGNED_AT
        )
    assert "Không đọc được ảnh con dấu" in str(error.value)


# --- The demo certificate -------------------------------------------------------------------


def _make_demo(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("make_demo_certificate", str(path), *args, stdout=out)
    return out.getvalue()


@pytest.mark.pdf
def test_the_demo_certificate_signs_a_report_that_validates(settings, rendered, tmp_path):
    path = tmp_path / "signing" / "demo-signing.p12"
    with translation.override("vi"):
        said = _make_demo(path)
    assert "Đã tạo chứng thư số thử nghiệm" in said
    secret = path.with_suffix(".passphrase")
    for written in (path, secret, path.with_suffix(".ca.pem")):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600, written

    settings.REPORT_SIGNING_PKCS12 = str(path)
    settings.REPORT_SIGNING_PASSPHRASE = secret.read_text()
    settings.REPORT_SIGNING_SEAL_IMAGE = ""
    now = timezone.now()
    signed = sign_report_pdf(
        rendered.content, box=rendered.signature_box, agency_name=AGENCY, signed_at=now
    )
    assert signed.signer == "Sở Khoa học và Công nghệ tỉnh Ninh Bình (DEMO)"
    assert signed.signed_at == now.replace(microsecond=0)  # a PDF date has whole seconds

    ca = x509.load_pem_x509_certificate(path.with_suffix(".ca.pem").read_bytes())
    _embedded, status = validate_signature(signed.content, ca)
    assert status.bottom_line
    assert status.signer_reported_dt == signed.signed_at
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    certificate = status.signing_cert
    subject = certificate.subject.native
    assert subject["organization_name"] == AGENCY
    assert "THỬ NGHIỆM" in subject["organizational_unit_name"]
    # Valid two years from now, and from a year back: the demo archive signs past months
    # at their dates of issue (manage.py demo_reports).
    validity = certificate["tbs_certificate"]["validity"]
    now = timezone.now()
    assert datetime.timedelta(days=729) < validity["not_after"].native - now
    assert validity["not_after"].native - now < datetime.timedelta(days=731)
    assert datetime.timedelta(days=365) < now - validity["not_before"].native
    assert status.signing_cert.public_key.algorithm == "rsa"


def test_making_the_demo_certificate_again_keeps_it_unless_forced(tmp_path):
    path = tmp_path / "demo-signing.p12"
    _make_demo(path)
    first = (path.read_bytes(), path.with_suffix(".passphrase").read_bytes())

    with translation.override("vi"):
        said = _make_demo(path)
    assert "Giữ nguyên chứng thư số thử nghiệm" in said
    assert (path.read_bytes(), path.with_suffix(".passphrase").read_bytes()) == first

    _make_demo(path, "--force")
    assert path.read_bytes() != first[0]
    assert path.with_suffix(".passphrase").read_bytes() != first[1]


def test_a_demo_certificate_without_its_passphrase_is_not_silently_kept(tmp_path):
    path = tmp_path / "demo-signing.p12"
    _make_demo(path)
    path.with_suffix(".passphrase").unlink()
    with pytest.raises(CommandError, match="--force"):
        _make_demo(path)


# --- The real monthly report ------------------------------------------------------------------


@needs_poppler
@pytest.mark.pdf
@pytest.mark.slow
@pytest.mark.django_db
def test_the_monthly_report_is_signed_between_the_signers_title_and_name(
    demo_plan, fake_pdf, vietnamese, configured, pki, settings, tmp_path
):
    """The June 2022 report of the demo plan: its HTML comes from the real service (the
    stand-in renderer keeps it), then the real renderer lays it out and it is signed."""
    import time_machine

    from reports.services import monthly_report_generate

    settings.REPORT_SIGNER_NAME = "Nguyễn Văn A"
    with time_machine.travel(datetime.datetime(2022, 7, 1, 6, 0, tzinfo=ICT), tick=False):
        monthly_report_generate(plan=demo_plan, period=datetime.date(2022, 6, 1))
    [report_html] = fake_pdf
    rendered = render_pdf(report_html)  # imported before fake_pdf replaced it: the real one
    box = rendered.signature_box
    assert isinstance(box, SignatureBox)

    # The box: on the page of the signature block, below the signer's title (PHÓ GIÁM ĐỐC),
    # above the name, centred on the name.
    words = _words(rendered.content, tmp_path, box.page)
    [title] = [where for text, where in words if text == "PHÓ"]
    [name] = [where for text, where in words if text == "Nguyễn"]
    [name_end] = [where for text, where in words if text == "A" and where[1] == name[1]]
    assert title[1] >= box.y1 - 1
    assert name[3] <= box.y0 + 1
    assert (box.x0 + box.x1) / 2 == pytest.approx((name[0] + name_end[2]) / 2, abs=1)
    assert box.x1 - box.x0 == pytest.approx(60 * MM, abs=0.1)
    assert box.y1 - box.y0 == pytest.approx(30 * MM, abs=0.1)

    signed = sign_report_pdf(rendered.content, box=box, agency_name=AGENCY, signed_at=SIGNED_AT)
    page, rect = _widget(signed.content)
    assert page == box.page
    assert _inside(rect, box.rect, slack=0.01)
    _embedded, status = validate_signature(signed.content, pki.ca)
    assert status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    text = " ".join(_pdftotext(signed.content, tmp_path).split())
    assert "BÁO CÁO" in text
    assert "PHÓ GIÁM ĐỐC" in text
    assert "Nguyễn Văn A" in text
    assert "Thời gian ký: 01/07/2025 09:30:05" in text
