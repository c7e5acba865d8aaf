"""The response that streams a stored file (evidence, a plan's basis document), shared by
the downloads of the pages and the API.

Evidence files are never served from MEDIA_URL: a download view first finds the file among
the evidence of the tasks the user may see (selectors.evidence_get_visible_to, 404
otherwise), then answers with `evidence_file_response`. The API's view is
/api/v1/evidence/<id>/download/; the HTML pages have tasks_app.views.evidence_download.
"""

import mimetypes
from pathlib import PurePosixPath

from django.http import FileResponse, Http404

from tasks_app.models import Evidence, PlanDocument
from tasks_app.uploads import ACCEPTED_MIME_TYPES


def stored_file_response(file, *, filename: str, content_type: str | None) -> FileResponse:
    """Stream a stored file as an attachment named `filename`.

    The content type is passed on only when it is one of the accepted kinds (uploads are
    checked against their content); anything else goes out as a plain download, so an
    uploaded HTML or SVG file never runs in the product's origin. A row that outlived its
    file (restored database, lost volume) is answered like a miss (404).
    """
    try:
        handle = file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    if content_type not in ACCEPTED_MIME_TYPES:
        content_type = "application/octet-stream"
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def evidence_file_response(evidence: Evidence) -> FileResponse:
    """An evidence file, named as it was uploaded, with the type detected at upload."""
    return stored_file_response(
        evidence.file, filename=evidence.original_name, content_type=evidence.content_type
    )


def plan_document_file_response(document: PlanDocument) -> FileResponse:
    """A plan's basis document; its type is read from its name (the content was checked
    against it at upload)."""
    name = PurePosixPath(document.file.name).name
    return stored_file_response(
        document.file, filename=name, content_type=mimetypes.guess_type(name)[0]
    )
