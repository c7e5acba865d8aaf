"""The response that streams an evidence file, shared by the downloads.

Evidence files are never served from MEDIA_URL: a download view first finds the file among
the evidence of the tasks the user may see (selectors.evidence_get_visible_to, 404
otherwise), then answers with `evidence_file_response`. The API's view is
/api/v1/evidence/<id>/download/; the HTML pages have tasks_app.views.evidence_download.
"""

from django.http import FileResponse, Http404

from tasks_app.models import Evidence
from tasks_app.uploads import ACCEPTED_MIME_TYPES


def evidence_file_response(evidence: Evidence) -> FileResponse:
    """Stream the stored file as an attachment named as it was uploaded.

    The content type is passed on only when it is one of the accepted kinds (the API stores
    the type detected from the content); anything else goes out as a plain download, so an
    uploaded HTML or SVG file never runs in the product's origin.
    """
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError as error:
        # The row outlived its file (restored database, lost volume): answered like a miss.
        raise Http404 from error
    content_type = (
        evidence.content_type
        if evidence.content_type in ACCEPTED_MIME_TYPES
        else "application/octet-stream"
    )
    response = FileResponse(
        handle, as_attachment=True, filename=evidence.original_name, content_type=content_type
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
