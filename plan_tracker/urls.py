"""URL wiring: admin, staff pages, notifications, dashboard, reports, REST API and docs."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from plan_tracker.health import HealthView
from reports.urls_archive import api_urlpatterns as report_api_urlpatterns
from tasks_app.forms import LoginForm, PasswordChangeForm

urlpatterns = [
    path("admin/", admin.site.urls),
    # Staff pages: login/logout/password change, the language switch, the task pages.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(form_class=PasswordChangeForm),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    # Issue 16: database, cache, broker, last beat and reminder runs; no login (health.py).
    path("health/", HealthView.as_view(), name="health"),
    # The user's notifications (reminders), with mark-as-read.
    path("notifications/", include("reminders.urls")),
    # REST API v1, its OpenAPI 3 schema and the docs page (Swagger UI from static files).
    # The leadership dashboard and its API (reports/), /api/v1/dashboard/summary/ included.
    path("dashboard/", include("reports.urls")),
    path("api/v1/dashboard/", include("reports.urls_api")),
    # The monthly reports: archive page (/reports/) and API (/api/v1/reports/).
    path("reports/", include("reports.urls_archive")),
    path("api/v1/", include((report_api_urlpatterns, "reports-api"))),
    # Issue 17: webhook endpoints, their deliveries and redelivery (/api/v1/webhooks/), and
    # their pages (/webhooks/).
    path("api/v1/", include(("webhooks.urls_api", "webhooks-api"))),
    path("webhooks/", include("webhooks.urls")),
    path("api/v1/", include("tasks_app.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Issue 16 "Headers": the split view serves Swagger UI's start-up script from
    # /api/docs/?script instead of inline, as the Content-Security-Policy requires.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("tasks_app.urls")),
]
