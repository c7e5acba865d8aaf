"""URLs of the report archive (namespace `report-archive`), mounted at /reports/."""

from django.urls import path, re_path

from reports import archive

app_name = "report-archive"

urlpatterns = [
    path("", archive.archive_list, name="list"),
    path("new/", archive.archive_create, name="create"),
    # Any id reaches the view, which answers 404 for a malformed one.
    re_path(r"^(?P<pk>[^/]+)/(?P<kind>pdf|xlsx)/$", archive.archive_download, name="download"),
    re_path(r"^(?P<pk>[^/]+)/regenerate/$", archive.archive_regenerate, name="regenerate"),
]

# API v1: /api/v1/reports/ (namespace `reports-api`), mounted under api/v1/ by
# plan_tracker/urls.py.
from rest_framework.routers import SimpleRouter  # noqa: E402

from reports.api_archive import MonthlyReportViewSet  # noqa: E402

_router = SimpleRouter()
_router.register("reports", MonthlyReportViewSet, basename="report")
api_urlpatterns = _router.urls
