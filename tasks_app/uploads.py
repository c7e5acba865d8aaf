"""Checks on uploaded evidence files: size, and type decided by the file's content.

A file's name and the type its browser declares are whatever the sender says; the bytes are
what a colleague opens later. So the type is read from the content (magic numbers through
the `filetype` library, plus a look inside ZIP containers for office documents) and must be
one of the accepted kinds: PDF, images, and office documents (Word, Excel, PowerPoint,
OpenDocument, and the legacy binary Office formats). The name's extension must also fit the
content, because downloads keep the original name and the reader's computer opens a file by
its extension. A program renamed `bao-cao.pdf` is refused with a message saying why.

`evidence_uploads(files)` returns the EvidenceUpload values the services store, with the
content type detected here (never the one the client declared).
"""

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from tasks_app.services import EvidenceUpload

# At most this many files in one status update or contribution.
MAX_FILES_PER_UPDATE = 10

# The magic number of OLE2 compound files: legacy .doc, .xls and .ppt.
_OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


@dataclass(frozen=True)
class Kind:
    """An accepted kind of file: its MIME type and the extensions its name may have."""

    mime: str
    extensions: tuple[str, ...]


PDF = Kind("application/pdf", ("pdf",))
PNG = Kind("image/png", ("png",))
JPEG = Kind("image/jpeg", ("jpg", "jpeg", "jpe", "jfif"))
GIF = Kind("image/gif", ("gif",))
WEBP = Kind("image/webp", ("webp",))
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",))
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",))
PPTX = Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation", ("pptx",))
ODT = Kind("application/vnd.oasis.opendocument.text", ("odt",))
ODS = Kind("application/vnd.oasis.opendocument.spreadsheet", ("ods",))
ODP = Kind("application/vnd.oasis.opendocument.presentation", ("odp",))
DOC = Kind("application/msword", ("doc",))
XLS = Kind("application/vnd.ms-excel", ("xls",))
PPT = Kind("application/vnd.ms-powerpoint", ("ppt",))

ACCEPTED_KINDS = (PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, ODT, ODS, ODP, DOC, XLS, PPT)
ACCEPTED_MIME_TYPES = tuple(kind.mime for kind in ACCEPTED_KINDS)

_BY_MAGIC = {kind.mime: kind for kind in (PDF, PNG, JPEG, GIF, WEBP)}
# OOXML: the part folder that names the application inside the package.
_OOXML_FOLDERS = {"word/": DOCX, "xl/": XLSX, "ppt/": PPTX}
_ODF_MIMETYPES = {kind.mime: kind for kind in (ODT, ODS, ODP)}
_OLE2_BY_EXTENSION = {"doc": DOC, "xls": XLS, "ppt": PPT}


def _extension(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower().lstrip(".")


def _zip_kind(content: bytes) -> Kind | None:
    """An OOXML or OpenDocument package, read from its directory (never decompressing
    more than the tiny `mimetype` entry, so a ZIP bomb costs nothing)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" in names:
                # Macro-enabled documents (.docm, .xlsm…) carry code: not accepted as evidence.
                if any(name.lower().endswith("vbaproject.bin") for name in names):
                    return None
                for folder, kind in _OOXML_FOLDERS.items():
                    if any(name.startswith(folder) for name in names):
                        return kind
                return None
            if "mimetype" in names and archive.getinfo("mimetype").file_size <= 100:
                mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
                return _ODF_MIMETYPES.get(mimetype)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, RuntimeError):
        return None
    return None


def detect_kind(content: bytes, name: str) -> Kind | None:
    """The accepted kind the content is, or None. The name only tells apart the legacy
    Office formats, which share one container format (OLE2)."""
    if content.startswith(_OLE2_MAGIC):
        return _OLE2_BY_EXTENSION.get(_extension(name))
    if content.startswith(b"PK\x03\x04"):
        return _zip_kind(content)
    guessed = filetype.guess(content[:8192])
    return _BY_MAGIC.get(guessed.mime) if guessed else None


def check_evidence_file(*, name: str, size: int, content: bytes) -> str:
    """Return the MIME type of an acceptable file; raise ValidationError otherwise."""
    max_mb = settings.EVIDENCE_MAX_MB
    if size > max_mb * 1024 * 1024:
        raise ValidationError(
            _("“%(name)s” is larger than %(max)s MB.") % {"name": name, "max": max_mb}
        )
    if size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name})
    kind = detect_kind(content, name)
    if kind is None:
        raise ValidationError(
            _(
                "“%(name)s” is not an accepted file: its content is not a PDF, an image "
                "(PNG, JPEG, GIF, WebP) or an office document (Word, Excel, PowerPoint, "
                "OpenDocument)."
            )
            % {"name": name}
        )
    if _extension(name) not in kind.extensions:
        raise ValidationError(
            _("The name of “%(name)s” does not match its content; name it with .%(ext)s.")
            % {"name": name, "ext": kind.extensions[0]}
        )
    return kind.mime


def evidence_uploads(files: Sequence[UploadedFile]) -> list[EvidenceUpload]:
    """Check every uploaded file and read it into an EvidenceUpload; raise one
    ValidationError listing every refused file."""
    if len(files) > MAX_FILES_PER_UPDATE:
        raise ValidationError(
            _("Attach at most %(count)s files at a time.") % {"count": MAX_FILES_PER_UPDATE}
        )
    uploads, errors = [], []
    limit = settings.EVIDENCE_MAX_MB * 1024 * 1024
    for uploaded in files:
        name = PurePosixPath((uploaded.name or "file").replace("\\", "/")).name or "file"
        # Refuse an oversized file before reading it into memory.
        content = uploaded.read() if uploaded.size <= limit else b""
        try:
            mime = check_evidence_file(name=name, size=uploaded.size, content=content)
        except ValidationError as error:
            errors.extend(error.messages)
            continue
        uploads.append(EvidenceUpload(name=name, content_type=mime, content=content))
    if errors:
        raise ValidationError(errors)
    return uploads
