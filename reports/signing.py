"""Digital signature of an issued monthly report: PAdES with pyHanko.

`sign_report_pdf(content, box=…, agency_name=…, signed_at=…)` signs the PDF that
reports/pdf.py rendered with the agency's certificate (REPORT_SIGNING_PKCS12, its passphrase
REPORT_SIGNING_PASSPHRASE) and returns a `SignedPdf`, or None when no certificate is
configured (`signing_configured()`), so a report is then issued unsigned.

What the signature is:

- PAdES baseline (SubFilter /ETSI.CAdES.detached), SHA-256, added as an incremental update:
  the rendered PDF is left byte for byte at the start of the signed file, and the signature
  covers the whole file;
- a visible signature field on `box`, the rectangle of the `#signature-box` element of the
  report (between the signer's title and name, where the seal and signature stand in
  Decree 30/2020); without a box, at the bottom right of the last page;
- its appearance: the agency's seal (REPORT_SIGNING_SEAL_IMAGE, or a plain round red seal
  drawn here) under the lines "Ký bởi: <agency>" and "Thời gian ký: dd/mm/yyyy HH:MM:SS"
  (Asia/Ho_Chi_Minh), in an embedded OpenType font (the standard PDF fonts have no
  Vietnamese letters);
- the signing time written in the signature (/M) is `signed_at`, the time the stamp shows.

A missing or unreadable file, a wrong passphrase, an expired certificate or a missing font
raise `SigningError`, whose message is translated (the issuing page shows it).

pyHanko's sign_pdf runs its own asyncio loop; where a loop already runs in the calling
thread (an async caller, a browser test's driver), the signing runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import logging
import math
import tempfile
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from PIL import Image, ImageDraw, ImageFont
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.generic import ArrayObject
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.stamp import TextStampStyle

from reports.pdf import SignatureBox
from tasks_app.categories import local_tz

# fontTools logs every table it prunes at INFO while the stamp's font is subset: noise in a
# worker's log, where the root level is INFO.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

# The report is always in Vietnamese (Decree 30/2020), whatever the reader's language, so the
# stamp's lines are document text written here, not catalog entries.
SIGNED_BY = "Ký bởi: {agency}"
SIGNED_AT = "Thời gian ký: {time}"
TIME_FORMAT = "%d/%m/%Y %H:%M:%S"

# Name of the signature field in the PDF (what a reader's signature panel lists).
FIELD_NAME = "ChuKySo"
# Fonts with every Vietnamese letter, embedded (subset) in the stamp: DejaVu Sans from
# fonts-dejavu-core, Liberation Sans from fonts-liberation2 (scripts/bootstrap.sh and the
# Dockerfile install both; the older fonts-liberation lacks 74 Vietnamese letters).
FONT_FILES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"),
)
FONT_SIZE = 8
LEADING = 10
TEXT_COLOR = (0.0, 0.0, 0.55)  # dark blue over the red seal
STAMP_MARGIN = 4  # points between the stamp's edge and its text
# Without a #signature-box: 60 × 30 mm (the space of a seal and signature), 20 mm from the
# right edge and 25 mm from the bottom of the last page (Decree 30's margins).
MM = 72 / 25.4
DEFAULT_SIZE = (60 * MM, 30 * MM)
DEFAULT_RIGHT_MARGIN = 20 * MM
DEFAULT_BOTTOM_MARGIN = 25 * MM
A4 = (595.28, 841.89)

# The seal drawn when no image is configured: red rings and a star, transparent around.
SEAL_PIXELS = 600
SEAL_RED = (200, 16, 46, 255)


class SigningError(Exception):
    """The report could not be signed; the message (translated) says why."""


@dataclass(frozen=True)
class SignedPdf:
    content: bytes
    signer: str  # common name (CN) of the signing certificate's subject
    signed_at: datetime.datetime


def signing_configured() -> bool:
    """Whether a signing certificate is configured (REPORT_SIGNING_PKCS12 is set)."""
    return bool(settings.REPORT_SIGNING_PKCS12)


def stamp_time(signed_at: datetime.datetime) -> str:
    """The signing time as the stamp shows it, in Asia/Ho_Chi_Minh."""
    return signed_at.astimezone(local_tz()).strftime(TIME_FORMAT)


def _load_signer():
    """pyHanko's signer from the configured PKCS#12 file (key, certificate, CA chain)."""
    path = Path(settings.REPORT_SIGNING_PKCS12)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SigningError(
            _("The signing certificate file {path} cannot be read ({reason}).").format(
                path=path, reason=error.strerror or error
            )
        ) from error
    passphrase = settings.REPORT_SIGNING_PASSPHRASE.encode() or None
    try:
        return signers.SimpleSigner.load_pkcs12_data(data, (), passphrase=passphrase)
    except ValueError as error:
        raise SigningError(
            _(
                "The signing certificate {path} cannot be opened: the passphrase is wrong or "
                "the file is not a PKCS#12 (.p12, .pfx) file."
            ).format(path=path)
        ) from error


def _common_name(certificate) -> str:
    subject = certificate.subject.native
    return subject.get("common_name") or certificate.subject.human_friendly


def _check_validity(certificate, signed_at: datetime.datetime) -> None:
    """Refuse to sign outside the certificate's validity: the signature would not verify."""
    validity = certificate["tbs_certificate"]["validity"]
    not_before = validity["not_before"].native
    not_after = validity["not_after"].native
    if signed_at < not_before:
        raise SigningError(
            _("The signing certificate is not valid before {date}.").format(
                date=stamp_time(not_before)
            )
        )
    if signed_at > not_after:
        raise SigningError(
            _("The signing certificate expired on {date}.").format(date=stamp_time(not_after))
        )


def _font_file() -> Path:
    for path in FONT_FILES:
        if path.is_file():
            return path
    raise SigningError(
        _(
            "No font with Vietnamese letters for the signature stamp: install the "
            "fonts-dejavu-core package (looked for {paths})."
        ).format(paths=", ".join(str(path) for path in FONT_FILES))
    )


def _stamp_font(text: str, folder: Path) -> Path:
    """The stamp's font cut down to the characters of `text` and scaled to 1000 units per
    em, written in `folder`. pyHanko writes a TrueType font's glyph widths (/W) in the font's
    own units, while a PDF reads them in thousandths of an em: DejaVu and Liberation have
    2048 units per em, and their letters came out twice as far apart as they should. The
    subset keeps the scaling quick (pyHanko subsets again when it embeds the font)."""
    font = TTFont(_font_file())
    # FFTM (FontForge's time stamps, in DejaVu) is a table fontTools cannot subset: dropped
    # here by name instead of with a warning in the log at every signature.
    subsetter = Subsetter(Options(drop_tables=[*Options().drop_tables, "FFTM"]))
    subsetter.populate(text=text)
    subsetter.subset(font)
    if font["head"].unitsPerEm != 1000:
        scale_upem(font, 1000)
    path = folder / "stamp-font.ttf"
    font.save(str(path))
    return path


def round_seal() -> Image.Image:
    """A plain round red seal (two rings and a star), for when the agency's seal image is not
    configured: it marks the place of the seal, it is no agency's seal."""
    size = SEAL_PIXELS
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    outer = size * 0.02
    draw.ellipse((outer, outer, size - outer, size - outer), outline=SEAL_RED, width=size // 30)
    inner = size * 0.13
    draw.ellipse((inner, inner, size - inner, size - inner), outline=SEAL_RED, width=size // 90)
    centre, radius = size / 2, size * 0.2
    points = []
    for index in range(10):
        angle = -math.pi / 2 + index * math.pi / 5
        length = radius if index % 2 == 0 else radius * 0.4
        points.append((centre + length * math.cos(angle), centre + length * math.sin(angle)))
    draw.polygon(points, fill=SEAL_RED)
    return image


def _seal_image() -> Image.Image:
    path = settings.REPORT_SIGNING_SEAL_IMAGE
    if not path:
        return round_seal()
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert("RGBA")
    except OSError as error:
        raise SigningError(
            _("The seal image {path} cannot be read as an image.").format(path=path)
        ) from error


def _wrap(text: str, font_file: Path, width: float) -> list[str]:
    """`text` in lines no wider than `width` points at FONT_SIZE (pyHanko's text boxes do
    not wrap); a single word wider than that stays whole and the stamp shrinks to fit."""
    font = ImageFont.truetype(str(font_file), 100)

    def fits(line: str) -> bool:
        return font.getlength(line) * FONT_SIZE / 100 <= width

    lines: list[str] = []
    for word in text.split():
        if lines and fits(f"{lines[-1]} {word}"):
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _default_box(writer) -> SignatureBox:
    """Bottom right of the last page, for a PDF without a #signature-box."""
    page_ref, _resources = writer.find_page_for_modification(-1)
    count = int(writer.root["/Pages"]["/Count"])
    media_box = page_ref.get_object().get("/MediaBox")
    if isinstance(media_box, ArrayObject):
        x_min, y_min, x_max, _y_max = (float(value) for value in media_box)
    else:
        x_min, y_min, (x_max, _y_max) = 0.0, 0.0, A4
    width, height = DEFAULT_SIZE
    x1 = x_max - DEFAULT_RIGHT_MARGIN
    y0 = y_min + DEFAULT_BOTTOM_MARGIN
    return SignatureBox(page=count - 1, x0=max(x_min, x1 - width), y0=y0, x1=x1, y1=y0 + height)


def _whole_points(box: SignatureBox) -> tuple[int, int, int, int]:
    """The box in whole points (what pyHanko's field takes), rounded inwards."""
    return (math.ceil(box.x0), math.ceil(box.y0), math.floor(box.x1), math.floor(box.y1))


def _stamp_style(font_file: Path, seal: Image.Image) -> TextStampStyle:
    """The seal under the text lines, both centred in the field; the lines shrink to fit."""
    centred = layout.SimpleBoxLayoutRule(
        x_align=layout.AxisAlignment.ALIGN_MID,
        y_align=layout.AxisAlignment.ALIGN_MID,
        margins=layout.Margins.uniform(STAMP_MARGIN),
        inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
    )
    return TextStampStyle(
        stamp_text="%(lines)s",
        text_box_style=TextBoxStyle(
            font=GlyphAccumulatorFactory(str(font_file), font_size=FONT_SIZE),
            font_size=FONT_SIZE,
            leading=LEADING,
            text_color=TEXT_COLOR,
            box_layout_rule=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MIN,
                y_align=layout.AxisAlignment.ALIGN_MID,
                margins=layout.Margins.uniform(0),
            ),
        ),
        inner_content_layout=centred,
        background=PdfImage(seal),
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(1),
            inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT,
        ),
        background_opacity=0.55,
        border_width=0,
    )


def outside_event_loop(function, *args, **kwargs):
    """Call `function` (which runs asyncio.run) here, or in a worker thread when an event
    loop already runs in this thread (asyncio.run refuses to nest)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def sign_report_pdf(
    content: bytes,
    *,
    box: SignatureBox | None,
    agency_name: str,
    signed_at: datetime.datetime,
) -> SignedPdf | None:
    """Sign the rendered report `content` in the name of the configured certificate, with a
    visible stamp on `box`; None when no certificate is configured. `signed_at` (aware) is
    the signing time, kept to the second. SigningError when the certificate, its
    passphrase, the seal image or the font is unusable. The input is kept whole at the start
    of the output (incremental update)."""
    if not signing_configured():
        return None
    if timezone.is_naive(signed_at):
        raise ValueError("signed_at must be an aware datetime")
    # A PDF date has whole seconds: the time returned is the one written in the signature.
    signed_at = signed_at.replace(microsecond=0)

    # 1. Key material and appearance resources; every failure here is the configuration's.
    signer = _load_signer()
    certificate = signer.signing_cert
    _check_validity(certificate, signed_at)
    font_file = _font_file()
    seal = _seal_image()

    # 2. The field: on the report's #signature-box, or the bottom right of the last page.
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(content), strict=False)
    except PdfReadError as error:
        raise SigningError(_("The report's PDF cannot be read to sign it.")) from error
    if box is None:
        box = _default_box(writer)
    text_width = (box.x1 - box.x0) - 2 * STAMP_MARGIN
    lines = [
        *_wrap(SIGNED_BY.format(agency=agency_name), font_file, text_width),
        SIGNED_AT.format(time=stamp_time(signed_at)),
    ]
    text = unicodedata.normalize("NFC", "\n".join(lines))

    # 3. Sign: PAdES, SHA-256, the signing time being signed_at.
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES
    )
    with tempfile.TemporaryDirectory(prefix="report-stamp-") as folder:
        pdf_signer = TimedPdfSigner(
            metadata,
            signer,
            signed_at=signed_at,
            stamp_style=_stamp_style(_stamp_font(text, Path(folder)), seal),
            new_field_spec=fields.SigFieldSpec(
                sig_field_name=FIELD_NAME, on_page=box.page, box=_whole_points(box)
            ),
        )
        output = outside_event_loop(
            pdf_signer.sign_pdf, writer, appearance_text_params={"lines": text}
        )
    return SignedPdf(
        content=output.getvalue(), signer=_common_name(certificate), signed_at=signed_at
    )


class TimedPdfSigner(signers.PdfSigner):
    """PdfSigner whose signing time is the given `signed_at` instead of the clock's, so the
    signature's /M and the stamp's time are the same instant (the issue time the caller
    records). pyHanko reads the time from the signing session's `system_time`, which
    `init_signing_session` leaves to the clock; test_signing.py checks the signature's time,
    so an upgrade that moves it fails there."""

    def __init__(self, *args, signed_at: datetime.datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self._signed_at = signed_at

    def init_signing_session(self, *args, **kwargs):
        session = super().init_signing_session(*args, **kwargs)
        session.system_time = self._signed_at
        return session
