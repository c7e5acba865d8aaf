"""The webhook pages (issue 17), for administrators and monitors (permissions.
can_manage_webhooks; others get 403): the endpoints, a form to register or change one, a
confirmation before deleting one, and an endpoint's page with its secret and its deliveries
log (attempts, "Redeliver"). Each view parses the form, loads through a selector and calls
one service (webhooks/services.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tasks_app.forms import add_service_errors
from tasks_app.permissions import can_manage_webhooks
from webhooks import selectors, services
from webhooks.forms import EndpointForm
from webhooks.models import Delivery, Endpoint

DELIVERIES_PER_PAGE = 25


def _require_permission(request: HttpRequest) -> None:
    # Webhooks send task data out of the system: administrators and monitors only.
    if not can_manage_webhooks(request.user):
        raise PermissionDenied


def _get_endpoint(pk: int) -> Endpoint:
    try:
        return selectors.endpoint_list().get(pk=pk)
    except Endpoint.DoesNotExist as error:
        raise Http404 from error


@login_required
@require_GET
def endpoint_list(request: HttpRequest) -> HttpResponse:
    """The endpoints, with their scope and delivery counts."""
    _require_permission(request)
    endpoints = selectors.endpoint_list()
    return render(request, "webhooks/endpoint_list.html", {"endpoints": endpoints})


def _form_page(request: HttpRequest, endpoint: Endpoint | None) -> HttpResponse:
    initial = {}
    if endpoint is not None:
        initial = {
            "name": endpoint.name,
            "url": endpoint.url,
            "agency": endpoint.agency_id,
            "events": endpoint.events,
            "is_active": endpoint.is_active,
        }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if endpoint is None:
                endpoint = services.endpoint_create(owner=request.user, **data)
                messages.success(request, _("The endpoint was registered."))
            else:
                endpoint = services.endpoint_update(endpoint=endpoint, **data)
                messages.success(request, _("The endpoint was saved."))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("webhooks:endpoint-detail", pk=endpoint.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "endpoint": endpoint}
    return render(request, "webhooks/endpoint_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_create(request: HttpRequest) -> HttpResponse:
    """Register an endpoint; the server makes its secret (shown on its page)."""
    _require_permission(request)
    return _form_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change an endpoint's name, URL, scope, events or active switch."""
    _require_permission(request)
    return _form_page(request, _get_endpoint(pk))


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes the endpoint and its deliveries."""
    _require_permission(request)
    endpoint = _get_endpoint(pk)
    if request.method == "POST":
        services.endpoint_delete(endpoint=endpoint)
        messages.success(request, _("The endpoint was deleted."))
        return redirect("webhooks:endpoint-list")
    return render(request, "webhooks/endpoint_delete.html", {"endpoint": endpoint})


@login_required
@require_GET
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The endpoint, its secret (behind a disclosure) and its deliveries, newest first,
    each with its attempts and a "Redeliver" button. Two queries a page for the log."""
    _require_permission(request)
    endpoint = _get_endpoint(pk)
    page = Paginator(selectors.delivery_list(endpoint=endpoint), DELIVERIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"endpoint": endpoint, "page": page}
    return render(request, "webhooks/endpoint_detail.html", context)


@login_required
@require_POST
def endpoint_rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the endpoint a new secret."""
    _require_permission(request)
    services.endpoint_rotate_secret(endpoint=_get_endpoint(pk))
    messages.success(request, _("The endpoint has a new secret: give it to the receiving system."))
    return redirect("webhooks:endpoint-detail", pk=pk)


@login_required
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    """Send a delivery again (a new cycle of tries)."""
    _require_permission(request)
    endpoint = _get_endpoint(pk)
    try:
        delivery = selectors.delivery_list(endpoint=endpoint).get(pk=delivery_pk)
    except Delivery.DoesNotExist as error:
        raise Http404 from error
    try:
        services.delivery_redeliver(delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The delivery will be sent again."))
    return redirect("webhooks:endpoint-detail", pk=pk)
