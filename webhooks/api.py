"""API of webhooks: /api/v1/webhooks/ (issue 17), for administrators and monitors.

- list, create, retrieve, change (PATCH), delete endpoints; the secret is made by the
  server and answered only on create and on `rotate-secret`;
- `deliveries`: an endpoint's deliveries, newest first, each with its attempts;
- `deliveries/{delivery_id}/redeliver`: send a delivery again (a new cycle of tries).

Everyone else gets 403; an endpoint or delivery that does not exist answers 404.
"""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from tasks_app.api.common import ANY_ID, MALFORMED_ID
from tasks_app.models import Agency
from tasks_app.permissions import CanManageWebhooks
from webhooks import selectors, services
from webhooks.models import Delivery, DeliveryAttempt, Endpoint, WebhookEvent


class EndpointSerializer(serializers.ModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True, allow_null=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
    delivery_count = serializers.IntegerField(read_only=True)
    failed_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Endpoint
        fields = [
            "id",
            "name",
            "url",
            "agency",
            "agency_name",
            "events",
            "is_active",
            "owner",
            "delivery_count",
            "failed_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EndpointWithSecretSerializer(EndpointSerializer):
    """The endpoint with its signing secret: answered on create and on rotate-secret only."""

    secret = serializers.CharField(read_only=True)

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class EndpointInputSerializer(serializers.Serializer):
    """`url`: http(s), to a public address (loopback and private ones are refused unless
    WEBHOOK_ALLOW_PRIVATE is on). `agency`: the scope (its tasks and its units'), null for
    the whole province. `events`: the events sent, empty for all."""

    name = serializers.CharField(max_length=120)
    url = serializers.CharField(max_length=500)
    agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), allow_null=True, required=False
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), required=False
    )
    is_active = serializers.BooleanField(required=False)


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["started_at", "status_code", "error", "duration_ms", "succeeded"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    attempts = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "delivery_id",
            "event",
            "subject",
            "occurred_at",
            "status",
            "attempts_in_cycle",
            "next_attempt_at",
            "delivered_at",
            "body",
            "attempts",
        ]
        read_only_fields = fields


DELIVERY_DESCRIPTION = """Each event is POSTed to the endpoint's URL as JSON:
`{"id": "<delivery uuid>", "event": "extension.decided", "timestamp": "<ISO 8601, UTC>",
"data": {"task": {...}, "extension": {...}}}` (`data.report` for `report.issued`), with the
headers `X-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>`,
`X-Webhook-Id` (the delivery id), `X-Webhook-Event` and `X-Webhook-Timestamp` (Unix
seconds). A 2xx answer marks it delivered; otherwise it is tried again with exponential
backoff, up to WEBHOOK_MAX_ATTEMPTS times. The endpoint receives the events of the tasks its
owner may see whose lead or coordinating agency lies in its agency scope. The URL must be
http(s) to a public address (400 otherwise)."""

DELIVERY_ID = OpenApiParameter("delivery_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="Webhook endpoints (administrators and monitors)"),
    retrieve=extend_schema(summary="One webhook endpoint"),
)
class EndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Webhook endpoints: each receives the signed events of the tasks in its scope."""

    serializer_class = EndpointSerializer
    permission_classes = [IsAuthenticated, CanManageWebhooks]
    lookup_value_regex = ANY_ID

    def get_queryset(self):
        return selectors.endpoint_list()

    def _endpoint(self) -> Endpoint:
        try:
            return self.get_queryset().get(pk=self.kwargs["pk"])
        except (Endpoint.DoesNotExist, *MALFORMED_ID) as error:
            raise Http404 from error

    def _parse(self, *, partial: bool = False) -> dict:
        serializer = EndpointInputSerializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _respond(self, endpoint, serializer=EndpointSerializer, code=status.HTTP_200_OK):
        return Response(serializer(self.get_queryset().get(pk=endpoint.pk)).data, status=code)

    @extend_schema(
        summary="Register an endpoint; the answer holds its secret",
        description=DELIVERY_DESCRIPTION,
        request=EndpointInputSerializer,
        responses={201: EndpointWithSecretSerializer},
    )
    def create(self, request):
        endpoint = services.endpoint_create(owner=request.user, **self._parse())
        return self._respond(endpoint, EndpointWithSecretSerializer, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change an endpoint (name, URL, scope, events, active)",
        request=EndpointInputSerializer,
        responses={200: EndpointSerializer},
    )
    def partial_update(self, request, pk=None):
        endpoint = self._endpoint()
        data = self._parse(partial=True)
        if data:
            endpoint = services.endpoint_update(endpoint=endpoint, **data)
        return self._respond(endpoint)

    @extend_schema(summary="Delete an endpoint and its deliveries", responses={204: None})
    def destroy(self, request, pk=None):
        services.endpoint_delete(endpoint=self._endpoint())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Give the endpoint a new secret; the answer holds it",
        request=None,
        responses={200: EndpointWithSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = services.endpoint_rotate_secret(endpoint=self._endpoint())
        return self._respond(endpoint, EndpointWithSecretSerializer)

    @extend_schema(
        summary="The endpoint's deliveries, newest first, with their attempts",
        responses={200: DeliverySerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        deliveries = selectors.delivery_list(endpoint=self._endpoint())
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Send a delivery again (a new cycle of tries, same delivery id and body)",
        request=None,
        parameters=[DELIVERY_ID],
        responses={202: DeliverySerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=rf"deliveries/(?P<delivery_id>{ANY_ID})/redeliver",
    )
    def redeliver(self, request, pk=None, delivery_id=None):
        endpoint = self._endpoint()
        try:
            delivery = selectors.delivery_list(endpoint=endpoint).get(pk=delivery_id)
        except (Delivery.DoesNotExist, *MALFORMED_ID) as error:
            raise Http404 from error
        services.delivery_redeliver(delivery=delivery)
        delivery = selectors.delivery_list(endpoint=endpoint).get(pk=delivery.pk)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
