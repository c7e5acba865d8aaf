"""Dashboard endpoints of API v1 (namespace `dashboard-api`), mounted at /api/v1/dashboard/.

/api/v1/dashboard/summary/ belongs to tasks_app.api (counts by area and agency); these are
the dashboard's richer numbers, from reports.selectors.
"""

from django.urls import path

from reports import api

app_name = "dashboard-api"

urlpatterns = [
    path("", api.DashboardView.as_view(), name="dashboard"),
    path("categories/", api.DashboardCategoriesView.as_view(), name="categories"),
    path("agencies/", api.DashboardAgenciesView.as_view(), name="agencies"),
    path("overdue/", api.DashboardOverdueView.as_view(), name="overdue"),
    path("trend/", api.DashboardTrendView.as_view(), name="trend"),
]
