"""API v1 of webhooks: /api/v1/webhooks/ (namespace `webhooks-api`), mounted by
plan_tracker/urls.py."""

from rest_framework.routers import SimpleRouter

from webhooks.api import EndpointViewSet

router = SimpleRouter()
router.register("webhooks", EndpointViewSet, basename="webhook")
urlpatterns = router.urls
