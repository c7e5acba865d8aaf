"""Celery tasks of webhooks: thin wrappers over webhooks/services.py, safe to run twice
(each send claims its delivery first)."""

from celery import shared_task


@shared_task(name="webhooks.delivery_send", ignore_result=True, time_limit=120, soft_time_limit=90)
def delivery_send_task(delivery_id: int) -> None:
    """Send one delivery if it is due (services.delivery_send); the backoff between tries
    is the delivery's own `next_attempt_at`, so a duplicate message sends nothing."""
    from webhooks.services import delivery_send

    delivery_send(delivery_id=delivery_id)


@shared_task(name="webhooks.deliveries_sweep", ignore_result=True)
def deliveries_sweep_task() -> int:
    """The beat's sweep (plan_tracker/celery.py): ask for every due delivery."""
    from webhooks.services import deliveries_sweep

    return deliveries_sweep()
