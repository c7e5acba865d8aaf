"""URLs of the report archive (namespace `report-archive`), mounted at /reports/."""

from django.urls import path, re_path

from reports import archive, views_issuing

app_name = "report-archive"

urlpatterns = [
    path("", archive.archive_list, name="list"),
    path("new/", archive.archive_create, name="create"),
    # Any id reaches the view, which answers 404 for a malformed one.
    re_path(r"^(?P<pk>[^/]+)/(?P<kind>pdf|xlsx)/$", archive.archive_download, name="download"),
    re_path(r"^(?P<pk>[^/]+)/regenerate/$", archive.archive_regenerate, name="regenerate"),
    # The report's page and its steps (reports/issuing.py).
    re_path(r"^(?P<pk>\d+)/$", views_issuing.report_detail, name="detail"),
    re_path(r"^(?P<pk>\d+)/edit/$", views_issuing.report_edit, name="edit"),
    re_path(r"^(?P<pk>\d+)/approve/$", views_issuing.report_approve_view, name="approve"),
    re_path(r"^(?P<pk>\d+)/issue/$", views_issuing.report_issue_view, name="issue"),
    re_path(r"^(?P<pk>\d+)/send/$", views_issuing.report_send_view, name="send"),
    re_path(r"^(?P<pk>\d+)/correct/$", views_issuing.report_correct_view, name="correct"),
]

# API v1: /api/v1/reports/ (namespace `reports-api`), mounted under api/v1/ by
# plan_tracker/urls.py.
from rest_framework.routers import SimpleRouter  # noqa: E402

from reports.api_archive import MonthlyReportViewSet  # noqa: E402

_router = SimpleRouter()
_router.register("reports", MonthlyReportViewSet, basename="report")
api_urlpatterns = _router.urls
