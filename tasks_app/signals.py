"""Signals that tasks_app sends for other apps, so that it never imports them."""

from django.dispatch import Signal

# A status update was recorded with a time before today (a plan file or the demo loader
# replaying history): what was known at the end of earlier days changed. Sent inside the
# recording transaction with `task` and `day` (the local date of the update). The reports
# app drops the trend's stored month ends from that day on (reports/trend_store.py).
past_status_recorded = Signal()

# --- Events for integrations (issue 17, webhooks) ----------------------------------------------
# Each is sent by the service that made the change, inside its transaction, after the rows are
# written: a receiver that writes rows of its own (the webhooks app's outbox) commits or rolls
# back with the change. A receiver must not have side effects outside the database.

# Tasks were created (task_create, task_split, task_create_many): `tasks`, a list.
task_created = Signal()
# A task's descriptive fields or due date changed (task_update_fields without a new lead
# agency, task_adjust_due): `task`.
task_changed = Signal()
# A task got a new lead agency (task_update_fields, hence tasks_reassign): `task` and
# `previous_lead_agency_id`.
task_reassigned = Signal()
# A status update, a contribution or a monitor's decision was recorded: `update`.
status_recorded = Signal()
# An agency asked for a later due date (extension_request): `extension`.
extension_requested = Signal()
# An extension request was approved or rejected (extension_approve, extension_reject):
# `extension`.
extension_decided = Signal()
