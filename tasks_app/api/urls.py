"""URLs of API v1, mounted at /api/v1/ (namespace `api`)."""

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from tasks_app.api import feeds, plan_import, views

app_name = "api"

router = SimpleRouter()
router.register("agencies", views.AgencyViewSet, basename="agency")
router.register("plans", views.PlanViewSet, basename="plan")
router.register("priority-areas", views.PriorityAreaViewSet, basename="priority-area")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("extensions", views.ExtensionViewSet, basename="extension")
router.register("auth/tokens", views.ApiTokenViewSet, basename="auth-tokens")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/calendar/rotate/", feeds.MeCalendarRotateView.as_view(), name="calendar-rotate"),
    path("me/calendar/revoke/", feeds.MeCalendarRevokeView.as_view(), name="calendar-revoke"),
    # Any non-slash id reaches the view, which answers a JSON 404 for a malformed one.
    re_path(
        r"^evidence/(?P<pk>[^/]+)/download/$",
        views.EvidenceDownloadView.as_view(),
        name="evidence-download",
    ),
    re_path(
        r"^plan-documents/(?P<pk>[^/]+)/download/$",
        views.PlanDocumentDownloadView.as_view(),
        name="plan-document-download",
    ),
    path("plan-imports/", plan_import.PlanImportView.as_view(), name="plan-import"),
    re_path(
        r"^plan-imports/(?P<pk>[^/]+)/apply/$",
        plan_import.PlanImportApplyView.as_view(),
        name="plan-import-apply",
    ),
    path("", include(router.urls)),
]
