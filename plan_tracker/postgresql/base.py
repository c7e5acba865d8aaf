"""Django's PostgreSQL backend, with a connection health check that costs no round trip
while the connection is in steady use.

Django's health check (CONN_HEALTH_CHECKS) sends `SELECT 1` before the first query of every
request on a kept connection: 12 % of a task's history request in issue 18's profile. This
backend sends it only when the connection could have died unseen:

1. psycopg already knows it is broken or closed, or it is not idle (a transaction left
   open): Django's check runs and closes it;
2. the server has written to it: a server that ends a connection (restart, shutdown,
   `pg_terminate_backend`, `idle_session_timeout`, a crashed backend) first sends a fatal
   error or closes the socket, and an idle connection is sent nothing otherwise. One
   `poll()` of the socket, without waiting, sees it; then Django's check runs;
3. it has not been checked for DATABASE_HEALTH_CHECK_IDLE_SECONDS: a peer that vanished
   without a word (a firewall that drops idle connections, a host gone) leaves nothing to
   read, so after such a pause the check is Django's `SELECT 1`.

Otherwise the connection is as healthy as one round trip would have shown a moment ago,
and the request starts at once. A failed check closes the connection, and Django opens a
new one for the request, as with its own check. (As with Django's, a connection can still
die between the check and the query; that request fails as it would have.)

Tested in tests/plan_tracker/test_db.py against a real server: a busy connection is
checked without a query, a terminated one is replaced, and an idle one gets `SELECT 1`;
those tests fail if a Django upgrade stops calling `close_if_health_check_failed`.
"""

import select
import time

from django.conf import settings
from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    # When the connection last passed a check (monotonic seconds); None: never.
    checked_at: float | None = None

    def connect(self):
        super().connect()
        self.checked_at = time.monotonic()

    def close_if_health_check_failed(self):
        if (
            self.connection is None
            or not self.health_check_enabled
            or self.health_check_done
            or self.pool
        ):
            return super().close_if_health_check_failed()  # nothing to check
        if self.healthy_without_a_query():
            self.health_check_done = True
        else:
            super().close_if_health_check_failed()  # SELECT 1; closed when it fails
        if self.connection is not None:
            self.checked_at = time.monotonic()

    def healthy_without_a_query(self) -> bool:
        """Whether the connection is known healthy without asking the server (steps 1–3
        of the module's docstring); False means "ask": Django's `SELECT 1` decides."""
        raw = self.connection
        if raw.closed or raw.broken or raw.pgconn.status != pq.ConnStatus.OK:
            return False
        if raw.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        idle_limit = settings.DATABASE_HEALTH_CHECK_IDLE_SECONDS
        if self.checked_at is None or time.monotonic() - self.checked_at > idle_limit:
            return False
        if not hasattr(select, "poll"):  # no poll() (Windows): always ask
            return False
        watch = select.poll()
        watch.register(raw.pgconn.socket, select.POLLIN | select.POLLPRI)
        # Anything to read, a hang-up or an error: the server spoke, so ask it.
        return not watch.poll(0)
