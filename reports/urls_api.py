"""Dashboard endpoints of API v1 (namespace `dashboard-api`), mounted at /api/v1/dashboard/:
every one of them answers from reports.selectors, as the dashboard page, its Excel file and
the monthly PDF do.
"""

from django.urls import path

from reports import api

app_name = "dashboard-api"

urlpatterns = [
    path("", api.DashboardView.as_view(), name="dashboard"),
    path("summary/", api.DashboardSummaryView.as_view(), name="summary"),
    path("categories/", api.DashboardCategoriesView.as_view(), name="categories"),
    path("agencies/", api.DashboardAgenciesView.as_view(), name="agencies"),
    path("overdue/", api.DashboardOverdueView.as_view(), name="overdue"),
    path("trend/", api.DashboardTrendView.as_view(), name="trend"),
]
