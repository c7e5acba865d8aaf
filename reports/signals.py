"""Signals that reports sends for other apps, so that it never imports them."""

from django.dispatch import Signal

# A monthly report was issued (reports/issuing.py, report_issue): `report`, sent inside the
# issuing transaction once the report row is saved, so a receiver's rows commit with it.
report_issued = Signal()
