"""HTML to PDF with WeasyPrint, reading nothing but the project's own static files.

`render_pdf(html)` lays out an HTML string (templates/reports/pdf/monthly.html) and returns
the PDF bytes and the page count. Resources go through `StaticOnlyFetcher`:

- a `file:///static/<path>` URL (what `{% static %}` gives against the base URL) is looked
  up with django.contrib.staticfiles' finders, and served only if the file found lies under
  one of their folders;
- everything else is refused: http(s), ftp, data:, other file paths. An image URL typed into
  a task (escaped by the template anyway) is never fetched, and the server never reaches out
  to the network or reads an arbitrary file while rendering.

Fonts come from fontconfig (Liberation Serif from Debian's fonts-liberation2, a metric twin
of Times New Roman with every Vietnamese glyph), not through the fetcher; WeasyPrint embeds
the subset it uses.
"""

from __future__ import annotations

import logging
import mimetypes
import posixpath
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders

# WeasyPrint logs every layout step at INFO ("Step 5 - Creating layout - Page 12"): noise in
# a worker's log, where the root level is INFO.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

from weasyprint import HTML  # noqa: E402
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402

# The base URL of the HTML: relative and root-relative URLs resolve to file:///…, where the
# fetcher maps the static prefix to the finders.
BASE_URL = "file:///"


class RefusedURL(ValueError):
    """The PDF renderer asked for something outside the project's static files."""


def _static_prefix() -> str:
    prefix = urlsplit(settings.STATIC_URL).path or "/static/"
    return "/" + prefix.strip("/") + "/"


def _static_roots() -> list[Path]:
    """Every folder the staticfiles finders read from (the project's static dirs and the
    apps' static/ folders)."""
    roots: list[Path] = []
    for finder in finders.get_finders():
        storages = getattr(finder, "storages", None)
        if storages:
            for storage in storages.values():
                location = getattr(storage, "location", None)
                if location:
                    roots.append(Path(location).resolve())
        storage = getattr(finder, "storage", None)
        location = getattr(storage, "location", None) if storage is not None else None
        if location:
            roots.append(Path(location).resolve())
    return roots


def static_path(url: str) -> Path:
    """The local file behind a `file:///static/…` URL; RefusedURL for any other URL."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise RefusedURL(f"refused (only the project's static files are read): {url[:200]}")
    path = unquote(parts.path)
    prefix = _static_prefix()
    if not path.startswith(prefix):
        raise RefusedURL(f"refused (not under {prefix}): {url[:200]}")
    relative = path[len(prefix) :]
    normalised = posixpath.normpath(relative)
    if not relative or normalised.startswith(("..", "/")) or "\x00" in relative:
        raise RefusedURL(f"refused (outside the static files): {url[:200]}")
    found = finders.find(normalised)
    if not found:
        raise RefusedURL(f"refused (no such static file): {url[:200]}")
    resolved = Path(found if isinstance(found, str) else found[0]).resolve()
    # A symlink inside a static folder must not lead out of it.
    if not any(resolved.is_relative_to(root) for root in _static_roots()):
        raise RefusedURL(f"refused (outside the static files): {url[:200]}")
    return resolved


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint URL fetcher serving only the project's static files (see module doc)."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=1)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        path = static_path(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), path.read_bytes(), headers={"Content-Type": content_type}
        )


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int


def render_pdf(html: str) -> RenderedPdf:
    """Lay out `html` and return the PDF. Deterministic: the same HTML gives the same bytes
    (no creation date is written), so a regenerated report has the same checksum."""
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).render()
    content = document.write_pdf()
    return RenderedPdf(content=content, pages=len(document.pages))
