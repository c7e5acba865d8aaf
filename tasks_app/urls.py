"""URLs of the staff pages (namespace `tasks_app`), mounted at the site root."""

from django.urls import path

from tasks_app import (
    views,
    views_members,
    views_plan_excel,
    views_plans,
    views_progress_sheet,
    views_reassign,
    views_tokens,
)

app_name = "tasks_app"

urlpatterns = [
    path("", views.start, name="start"),
    path("tasks/", views.task_list, name="task-list"),
    # Issue 16: the person's own API tokens.
    path("accounts/tokens/", views_tokens.token_list, name="api-tokens"),
    path("accounts/tokens/<uuid:uid>/revoke/", views_tokens.token_revoke, name="api-token-revoke"),
    path("tasks/<int:pk>/", views.task_detail, name="task-detail"),
    path("tasks/<int:pk>/progress/", views.task_progress, name="task-progress"),
    path("tasks/<int:pk>/contribute/", views.task_contribute, name="task-contribute"),
    path("tasks/<int:pk>/review/", views.task_review, name="task-review"),
    path("tasks/<int:pk>/withdraw/", views.task_withdraw, name="task-withdraw"),
    path("tasks/<int:pk>/extension/", views.extension_request, name="extension-request"),
    path("tasks/extensions/", views.extension_list, name="extension-list"),
    path("tasks/extensions/<int:pk>/", views.extension_decide, name="extension-decide"),
    path("tasks/evidence/<int:pk>/", views.evidence_download, name="evidence-download"),
    # The monitoring agency's plan pages (issue 13).
    path("plans/", views_plans.plan_list, name="plan-list"),
    path("plans/new/", views_plans.plan_create, name="plan-create"),
    path("plans/<int:pk>/", views_plans.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/edit/", views_plans.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/documents/new/", views_plans.document_create, name="document-create"),
    path("plans/documents/<int:pk>/edit/", views_plans.document_edit, name="document-edit"),
    path("plans/documents/<int:pk>/delete/", views_plans.document_delete, name="document-delete"),
    path("plans/documents/<int:pk>/file/", views_plans.document_download, name="document-file"),
    path("plans/<int:pk>/areas/new/", views_plans.area_create, name="area-create"),
    path("plans/areas/<int:pk>/edit/", views_plans.area_edit, name="area-edit"),
    path("plans/<int:pk>/tasks/new/", views_plans.task_create, name="task-create"),
    path("tasks/<int:pk>/edit/", views_plans.task_edit, name="task-edit"),
    path("tasks/<int:pk>/lead/", views_plans.task_lead, name="task-lead"),
    path("tasks/<int:pk>/due/", views_plans.task_due, name="task-due"),
    path("tasks/<int:pk>/split/", views_plans.task_split, name="task-split"),
    # Tasks whose lead agency ceased to exist (issue 14).
    path("tasks/reassign/", views_reassign.reassign_list, name="reassign-list"),
    path("agencies/search/", views_plans.agency_search, name="agency-search"),
    # Staff of reorganised agencies, moved to the successor on the monitor's word (issue 14).
    path(
        "agencies/transfers/",
        views_members.membership_transfers,
        name="membership-transfers",
    ),
    # The plan workbook (issue 13): template, export, import with a preview.
    path("plans/template.xlsx", views_plan_excel.plan_template, name="plan-template"),
    path("plans/<int:pk>/export.xlsx", views_plan_excel.plan_export, name="plan-export"),
    path("plans/import/", views_plan_excel.plan_import, name="plan-import"),
    path(
        "plans/imports/<int:pk>/",
        views_plan_excel.plan_import_preview,
        name="plan-import-preview",
    ),
    # The agencies' progress sheets (issue 13): download, fill, preview, record.
    path("tasks/progress-sheet/", views_progress_sheet.progress_sheet_start, name="progress-sheet"),
    path(
        "tasks/progress-sheet/download/<int:agency_pk>/",
        views_progress_sheet.progress_sheet_download,
        name="progress-sheet-download",
    ),
    path(
        "tasks/progress-sheet/<int:pk>/",
        views_progress_sheet.progress_sheet_preview,
        name="progress-sheet-preview",
    ),
]
