"""URLs of the dashboard (namespace `reports`), mounted at /dashboard/."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("trend/", views.dashboard_trend_part, name="dashboard-trend"),
    path("export.xlsx", views.dashboard_export, name="dashboard-export"),
]
