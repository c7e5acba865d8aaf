"""Services of webhooks: the endpoints, the outbox of deliveries, and their sending.

1. `deliveries_record` runs in the transaction of a change (receivers.py): it writes one
   Delivery per endpoint whose scope permits the event, and asks for their sending once
   the transaction commits. A rolled-back change leaves no delivery, a committed one
   always has its rows: the outbox.
2. `delivery_send` claims a due delivery with a conditional update (one worker sends it,
   even when the sweep and a retry race), POSTs its signed body once, records the attempt,
   and marks it delivered (2xx), due again later (exponential backoff), or failed after
   WEBHOOK_MAX_ATTEMPTS tries.
3. `deliveries_sweep` (beat, every minute) sends the deliveries that are due: retries
   whose time came, and requests lost while the broker was down or a worker died.
"""

import datetime
import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Iterable

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as KombuOperationalError

from tasks_app.models import Agency
from webhooks import payloads
from webhooks.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Endpoint,
    WebhookEvent,
    new_secret,
)
from webhooks.selectors import endpoint_sees_report, endpoint_task_ids
from webhooks.urlcheck import post_to_checked_address, url_check, url_refusal

logger = logging.getLogger(__name__)

# What sending a task raises when the broker cannot be reached (as reports/services.py).
BROKER_ERRORS = (KombuOperationalError, ConnectionError, TimeoutError, OSError)

# Up to this many deliveries of one change are asked for one by one after the commit; more
# are left to one run of the sweep.
ENQUEUE_ONE_BY_ONE = 50

SIGNATURE_HEADER = "X-Signature-256"
USER_AGENT = "plan-tracker-webhooks/1"


# --- Endpoints ----------------------------------------------------------------------------------


def _clean_endpoint(endpoint: Endpoint) -> None:
    """The model's validation and the outbound address check; ValidationError by field."""
    errors: dict[str, list[str]] = {}
    try:
        endpoint.full_clean(exclude=["owner"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if "url" not in errors and (refusal := url_refusal(endpoint.url)):
        errors["url"] = [refusal]
    unknown = [e for e in endpoint.events if e not in WebhookEvent.values]
    if unknown:
        errors.setdefault("events", []).append(
            _("Unknown events: %(events)s.") % {"events": ", ".join(map(str, unknown))}
        )
    if errors:
        raise ValidationError(errors)


def endpoint_create(
    *,
    owner,
    name: str,
    url: str,
    agency: Agency | None = None,
    events: Iterable[str] = (),
    is_active: bool = True,
) -> Endpoint:
    """Register an endpoint owned by `owner`, with a new random secret. Refuses (by field)
    a URL that is not http(s) or that points to a non-public address (urlcheck.py)."""
    endpoint = Endpoint(
        owner=owner,
        name=name.strip(),
        url=url.strip(),
        agency=agency,
        events=sorted(set(events)),
        is_active=is_active,
    )
    _clean_endpoint(endpoint)
    endpoint.save()
    return endpoint


ENDPOINT_EDITABLE_FIELDS = frozenset({"name", "url", "agency", "events", "is_active"})


def endpoint_update(*, endpoint: Endpoint, **fields) -> Endpoint:
    """Change an endpoint's name, URL, scope, events or active switch, with the checks of
    endpoint_create. The owner and the secret stay (endpoint_rotate_secret)."""
    unknown = set(fields) - ENDPOINT_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        if name == "events":
            value = sorted(set(value))
        elif name in ("name", "url"):
            value = value.strip()
        setattr(endpoint, name, value)
    _clean_endpoint(endpoint)
    endpoint.save()
    return endpoint


def endpoint_rotate_secret(*, endpoint: Endpoint) -> Endpoint:
    """Give the endpoint a new secret; the next attempts are signed with it."""
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


def endpoint_delete(*, endpoint: Endpoint) -> None:
    """Delete an endpoint with its deliveries and their attempts."""
    endpoint.delete()


# --- The outbox ---------------------------------------------------------------------------------


def deliveries_record(
    *,
    event: str,
    task_ids: Iterable[int] = (),
    extra: dict | None = None,
    previous_agency_id: int | None = None,
    report=None,
) -> list[Delivery]:
    """Write the deliveries of one event, in the caller's transaction: for each active
    endpoint subscribed to `event`, one delivery per task of `task_ids` that the endpoint's
    scope permits (webhooks/selectors.py), or one for `report`. `extra` joins the task in
    `data` (the update, the extension…). The sending is asked for on commit.

    Queries: one for the endpoints; then per endpoint one for its scope; the tasks' data
    once (three); one INSERT. None of them grows with the number of tasks."""
    endpoints = [
        e
        for e in Endpoint.objects.filter(is_active=True).select_related("owner", "agency")
        if e.wants(event)
    ]
    if not endpoints:
        return []
    now = timezone.now()
    rows: list[Delivery] = []
    if report is not None:
        data = {"report": payloads.report_data(report)}
        for endpoint in endpoints:
            if endpoint_sees_report(endpoint, report):
                rows.append(_delivery(endpoint, event, now, data, subject=str(report)))
    else:
        ids = list(task_ids)
        wanted = {e.pk: endpoint_task_ids(e, ids, previous_agency_id) for e in endpoints}
        needed = set().union(*wanted.values())
        tasks = payloads.task_rows(needed) if needed else {}
        datas = {
            pk: {"task": payloads.task_data(task), **(extra or {})} for pk, task in tasks.items()
        }
        for endpoint in endpoints:
            for pk in sorted(wanted[endpoint.pk]):
                task = tasks[pk]
                subject = f"{task.code}: {task.title}"[:300]
                rows.append(_delivery(endpoint, event, now, datas[pk], subject=subject))
    if not rows:
        return []
    created = Delivery.objects.bulk_create(rows, batch_size=1000)
    ids = [d.pk for d in created]
    if len(ids) > ENQUEUE_ONE_BY_ONE:
        # A plan workbook's thousands of new tasks: one message for the sweep rather than
        # thousands sent while the person waits for the page.
        transaction.on_commit(sweep_request)
    else:
        transaction.on_commit(lambda: deliveries_enqueue(ids))
    return created


def sweep_request() -> bool:
    """Ask a worker to run the sweep now; False (a warning logged) when the broker cannot be
    reached: the beat's sweep comes within a minute anyway."""
    from webhooks.tasks import deliveries_sweep_task as sweep_task

    try:
        sweep_task.delay()
    except BROKER_ERRORS as error:
        logger.warning("broker unreachable, webhook deliveries left for the sweep: %s", error)
        return False
    return True


def _delivery(endpoint: Endpoint, event: str, now, data: dict, *, subject: str) -> Delivery:
    delivery_id = uuid.uuid4()
    return Delivery(
        endpoint=endpoint,
        delivery_id=delivery_id,
        event=event,
        subject=subject,
        occurred_at=now,
        body=payloads.body(delivery_id=str(delivery_id), event=event, occurred_at=now, data=data),
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
    )


def deliveries_enqueue(delivery_ids: Iterable[int], *, countdown: int | None = None) -> int:
    """Ask a worker to send each delivery; returns how many requests went out. When the
    broker cannot be reached, the deliveries stay due for the sweep (a warning is logged)."""
    from webhooks.tasks import delivery_send_task as send_task

    sent = 0
    for delivery_id in delivery_ids:
        try:
            send_task.apply_async((delivery_id,), countdown=countdown)
        except BROKER_ERRORS as error:
            logger.warning("broker unreachable, webhook deliveries left for the sweep: %s", error)
            break
        sent += 1
    return sent


# --- Sending ------------------------------------------------------------------------------------


def signature(secret: str, body: bytes) -> str:
    """The X-Signature-256 header's value: sha256=<hex HMAC-SHA256 of the body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay(attempts: int) -> datetime.timedelta:
    """How long to wait after the `attempts`-th failed try of a cycle: WEBHOOK_RETRY_SECONDS,
    doubled at each try, at most an hour."""
    return datetime.timedelta(
        seconds=min(settings.WEBHOOK_RETRY_SECONDS * 2 ** (attempts - 1), 3600)
    )


def _stale_claim_before() -> datetime.datetime:
    # A worker that died mid-send leaves its claim; after this, the sweep takes it over.
    return timezone.now() - datetime.timedelta(seconds=4 * settings.WEBHOOK_TIMEOUT_SECONDS + 60)


def _due() -> Q:
    now = timezone.now()
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_at__lt=_stale_claim_before()
    )


def _post(endpoint: Endpoint, delivery: Delivery) -> tuple[int | None, str]:
    """One POST of the delivery's body; (HTTP status, error text). No redirect is followed:
    a redirect could lead to an address the check refused."""
    refusal, addresses = url_check(endpoint.url)
    if refusal:
        return None, refusal
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(endpoint.secret, body),
        "X-Webhook-Id": str(delivery.delivery_id),
        "X-Webhook-Event": delivery.event,
        "X-Webhook-Timestamp": str(int(delivery.occurred_at.timestamp())),
    }
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    try:
        response = post_to_checked_address(
            endpoint.url,
            addresses[0],
            data=body,
            headers=headers,
            timeout=(min(timeout, 5), timeout),
        )
    except requests.RequestException as error:
        return None, f"{type(error).__name__}: {error}"[:500]
    response.close()
    return response.status_code, ""


def delivery_send(*, delivery_id: int) -> DeliveryAttempt | None:
    """Send one delivery if it is due, once.

    1. Claim it: pending and due (or sending under a stale claim) → sending. Another worker
       that claimed it first, a delivered or failed one, or one not due yet: nothing is done,
       None is returned.
    2. Check the address again and POST the signed body (a short timeout, no redirects).
    3. Record the attempt (status or error, response time) and move the delivery on:
       2xx delivered; else due again after the backoff, or failed after
       WEBHOOK_MAX_ATTEMPTS tries of the cycle. A retry is asked for with that countdown;
       should the broker be down, the sweep sends it when it is due.
    """
    now = timezone.now()
    claimed = Delivery.objects.filter(_due(), pk=delivery_id).update(
        status=DeliveryStatus.SENDING, claimed_at=now
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:  # its endpoint was deleted meanwhile
        return None
    started = time.monotonic()
    status_code, error = _post(delivery.endpoint, delivery)
    duration_ms = int((time.monotonic() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    attempts = delivery.attempts_in_cycle + 1
    retry_in: datetime.timedelta | None = None
    changes: dict = {"attempts_in_cycle": attempts, "claimed_at": None, "next_attempt_at": None}
    if succeeded:
        changes.update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now())
    elif attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        changes.update(status=DeliveryStatus.FAILED)
    else:
        retry_in = retry_delay(attempts)
        changes.update(status=DeliveryStatus.PENDING, next_attempt_at=timezone.now() + retry_in)
    if not succeeded and not error:
        error = _("The receiver answered HTTP %(status)s.") % {"status": status_code}
    with transaction.atomic():
        attempt = DeliveryAttempt.objects.create(
            delivery=delivery,
            started_at=now,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            succeeded=succeeded,
        )
        # Only while this worker's claim holds: a claim taken over meanwhile keeps its row.
        Delivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.SENDING, claimed_at=now
        ).update(**changes)
    if retry_in is not None:
        deliveries_enqueue([delivery_id], countdown=int(retry_in.total_seconds()))
    return attempt


def deliveries_sweep() -> int:
    """Ask for the sending of every due delivery (a retry whose time came, a request lost
    while the broker was down, a claim left by a dead worker); returns how many. Safe to
    run twice: each send claims its delivery first."""
    due = Delivery.objects.filter(_due()).order_by("next_attempt_at", "pk")
    return deliveries_enqueue(list(due.values_list("pk", flat=True)[:5000]))


def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send a delivery again (the page's and the API's "Redeliver"): a new cycle of tries
    starts now, with the same delivery id and body, so a receiver that keeps the ids it
    processed can tell. Refused (ValidationError) while it is being sent."""
    now = timezone.now()
    with transaction.atomic():
        updated = (
            Delivery.objects.filter(pk=delivery.pk)
            .exclude(status=DeliveryStatus.SENDING)
            .update(status=DeliveryStatus.PENDING, attempts_in_cycle=0, next_attempt_at=now)
        )
        if not updated:
            raise ValidationError(
                {"delivery": _("This delivery is being sent right now; try again in a moment.")}
            )
        transaction.on_commit(lambda: deliveries_enqueue([delivery.pk]))
    delivery.refresh_from_db()
    return delivery
