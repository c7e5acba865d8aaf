"""URLs of the staff pages (namespace `tasks_app`), mounted at the site root."""

from django.urls import path

from tasks_app import views, views_plan_excel

app_name = "tasks_app"

urlpatterns = [
    path("", views.start, name="start"),
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/<int:pk>/", views.task_detail, name="task-detail"),
    path("tasks/<int:pk>/progress/", views.task_progress, name="task-progress"),
    path("tasks/<int:pk>/contribute/", views.task_contribute, name="task-contribute"),
    path("tasks/<int:pk>/review/", views.task_review, name="task-review"),
    path("tasks/<int:pk>/withdraw/", views.task_withdraw, name="task-withdraw"),
    path("tasks/<int:pk>/extension/", views.extension_request, name="extension-request"),
    path("tasks/extensions/", views.extension_list, name="extension-list"),
    path("tasks/extensions/<int:pk>/", views.extension_decide, name="extension-decide"),
    path("tasks/evidence/<int:pk>/", views.evidence_download, name="evidence-download"),
    # The plan workbook (issue 13): template, export, import with a preview.
    path("plans/template.xlsx", views_plan_excel.plan_template, name="plan-template"),
    path("plans/<int:pk>/export.xlsx", views_plan_excel.plan_export, name="plan-export"),
    path("plans/import/", views_plan_excel.plan_import, name="plan-import"),
    path(
        "plans/imports/<int:pk>/",
        views_plan_excel.plan_import_preview,
        name="plan-import-preview",
    ),
]
