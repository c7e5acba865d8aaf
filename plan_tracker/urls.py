"""URL wiring: admin, staff pages, notifications, dashboard, reports, REST API and docs."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from plan_tracker import oidc
from plan_tracker.health import HealthView
from reports.urls_archive import api_urlpatterns as report_api_urlpatterns
from tasks_app import views_account
from tasks_app.api.feeds import CalendarFeedView
from tasks_app.forms import LoginForm, PasswordChangeForm

urlpatterns = [
    path("admin/", admin.site.urls),
    # Staff pages: login/logout/password change, the language switch, the task pages.
    # The login page offers single sign-on when it is configured; logging out of a single
    # sign-on session goes on to the provider's logout (plan_tracker/oidc.py).
    path("accounts/login/", oidc.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/logout/", oidc.LogoutView.as_view(), name="logout"),
    # Issue 17: single sign-on (OpenID Connect); both answer 404 while it is off.
    path("oidc/authenticate/", oidc.SsoStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", oidc.SsoCallbackView.as_view(), name="oidc_authentication_callback"),
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
    # The person's own page and their calendar feed's actions (issue 17).
    path("accounts/me/", views_account.account, name="account"),
    path(
        "accounts/me/calendar/rotate/",
        views_account.calendar_rotate,
        name="account-calendar-rotate",
    ),
    path(
        "accounts/me/calendar/revoke/",
        views_account.calendar_revoke,
        name="account-calendar-revoke",
    ),
    # The iCal feed: no session, the token is the key; any token reaches the view (404).
    re_path(r"^calendar/(?P<token>[^/]*)\.ics$", CalendarFeedView.as_view(), name="calendar-feed"),
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
