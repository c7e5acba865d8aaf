"""Signals that tasks_app sends for other apps, so that it never imports them."""

from django.dispatch import Signal

# A status update was recorded with a time before today (a plan file or the demo loader
# replaying history): what was known at the end of earlier days changed. Sent inside the
# recording transaction with `task` and `day` (the local date of the update). The reports
# app drops the trend's stored month ends from that day on (reports/trend_store.py).
past_status_recorded = Signal()
