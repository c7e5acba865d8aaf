"""URLs of the webhook pages (namespace `webhooks`), mounted at /webhooks/."""

from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="endpoint-list"),
    path("new/", views.endpoint_create, name="endpoint-create"),
    path("<int:pk>/", views.endpoint_detail, name="endpoint-detail"),
    path("<int:pk>/edit/", views.endpoint_edit, name="endpoint-edit"),
    path("<int:pk>/delete/", views.endpoint_delete, name="endpoint-delete"),
    path("<int:pk>/rotate-secret/", views.endpoint_rotate_secret, name="endpoint-rotate-secret"),
    path(
        "<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        views.delivery_redeliver,
        name="delivery-redeliver",
    ),
]
