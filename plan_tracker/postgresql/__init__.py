"""Django's PostgreSQL backend with a health check that costs no round trip on a busy
connection (see base.py). Selected in settings.py for every PostgreSQL DATABASE_URL."""
