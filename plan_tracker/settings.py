"""Django settings for plan_tracker.

Everything comes from the environment (see `.env.example`). With nothing set, the product
runs on the embedded defaults of DESIGN.md: SQLite and a file-based Celery transport under
`var/`, e-mail written to files under `var/mail/`. Production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS and the SMTP variables.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from plan_tracker.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PLAN_TRACKER_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

# A secret key is only generated for local development; production must provide one.
SECRET_KEY = env_str("SECRET_KEY", None)
# Issue 16, commands after `make run`: on the embedded defaults (no DATABASE_URL, so the
# SQLite database under var/), a shell without SECRET_KEY uses the key `make run` keeps in
# var/secret_key, so `.venv/bin/python manage.py send_reminders` works in the clone. A
# deployment names its database and must still set SECRET_KEY itself.
if not SECRET_KEY and not env_str("DATABASE_URL", ""):
    _key_file = VAR_DIR / "secret_key"
    if _key_file.is_file():
        SECRET_KEY = _key_file.read_text(encoding="utf-8").strip() or None
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # Issue 16: API tokens stored as digests, expiring, several per user (tasks_app.ApiToken).
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "tasks_app",
    "reports",
    "reminders",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Issue 16 "Headers": the Content-Security-Policy header (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # request.htmx: the staff pages answer htmx requests with a partial template.
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "plan_tracker.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                # unread_notification_count (lazy: counted only where a template shows it)
                "reminders.context_processors.notifications",
                # The page frame: the user's agencies, roles, extensions waiting (lazy too)
                "tasks_app.context_processors.page_frame",
            ],
        },
    },
]

WSGI_APPLICATION = "plan_tracker.wsgi.application"

# --- Database: SQLite under var/ unless DATABASE_URL names PostgreSQL -----------------------
# Connections are kept for DATABASE_CONN_MAX_AGE seconds (0: one per request) and checked
# before reuse: opening a PostgreSQL connection cost 5–7 ms, a third of an API write.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'plan_tracker.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The report category is a CASE over correlated subqueries; its cost estimate trips
    # PostgreSQL's JIT, which then spends seconds compiling each query (bench/README.md).
    # work_mem: the dashboard groups every task of a plan by area, agency and category; with
    # the default 4 MB PostgreSQL sorts them (0.7 s at 200,000 tasks) instead of hashing
    # them in memory (0.4 s). Per sort or hash of a query, a few connections: small.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c jit=off -c work_mem={env_str('DATABASE_WORK_MEM', '32MB')}"
    )
    # Django's backend whose health check sends `SELECT 1` only when a kept connection may
    # have died unseen: psycopg knows it broken, the server wrote to it (a shutdown or a
    # terminated backend), or it was not checked for DATABASE_HEALTH_CHECK_IDLE_SECONDS
    # (plan_tracker/postgresql/base.py; 12 % of a task's history request, issue 18).
    DATABASES["default"]["ENGINE"] = "plan_tracker.postgresql"
DATABASE_HEALTH_CHECK_IDLE_SECONDS = env_int("DATABASE_HEALTH_CHECK_IDLE_SECONDS", 10)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a writer instead of failing at once when web and worker write together.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
# PostgreSQL keeps the plans of the API's short queries (plan_tracker/db.py). Switch off
# behind a pooler in transaction mode (PgBouncer), which cannot keep a connection's prepared
# statements.
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: the API's throttle counters --------------------------------------------------------
# Per process (local memory) unless CACHE_URL names a Redis database (redis://host:6379/1),
# which every web process then shares: a client's limit is counted once across them. Use a
# database of its own, not Celery's: clearing the cache empties the whole database.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "plan_tracker",
            # Redis down: fail within a second, and the throttles let the request through
            # (tasks_app/api/throttles.py) rather than every API request waiting or failing.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

# The staff pages: anonymous visitors go to the login page; after login, the start page sends
# each role to its work.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tasks_app:start"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["plan_tracker.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Front-end packages installed by `npm ci` (package-lock.json) are served from node_modules
# under a vendor/ prefix, never copied into git. Listed only once installed, so settings
# load before `npm ci` has run.
for _prefix, _dist in [
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]:
    if _dist.is_dir():
        STATICFILES_DIRS.append((_prefix, _dist))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Source maps of the front-end packages are large and never sent to browsers: skip compressing.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (
    "jpg",
    "jpeg",
    "png",
    "gif",
    "webp",
    "zip",
    "gz",
    "tgz",
    "bz2",
    "tbz",
    "xz",
    "br",
    "swf",
    "flv",
    "woff",
    "woff2",
    "3gp",
    "3gpp",
    "asf",
    "avi",
    "m4v",
    "mov",
    "mp4",
    "mpeg",
    "mpg",
    "webm",
    "wmv",
    "map",
)

# --- E-mail: files under var/mail/ unless an SMTP host is configured ------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "plan-tracker@localhost")
# Public address of the site, for the absolute links in e-mails (a worker has no request).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# --- Security ----------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# Issue 16 "Headers": with DEBUG off, plain http is redirected to https and HSTS (one year)
# is sent on https responses. Behind a proxy that terminates TLS, set BEHIND_TLS_PROXY=true:
# only then is its X-Forwarded-Proto header believed (anyone can send that header to a
# server reached directly). A plain-http deployment on an internal network (not
# recommended) sets SECURE_SSL_REDIRECT=false, SECURE_HSTS_SECONDS=0, SECURE_COOKIES=false;
# `make run` does so for http://127.0.0.1:8000 (scripts/run.sh).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0 and env_bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", True
)
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0 and env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Issue 16 "Headers": Content-Security-Policy (django-csp, csp.middleware.CSPMiddleware).
# Every script and style is a static file of our own (no inline <script>, no style=""
# attribute, no event-handler attribute); htmx's indicator <style> is switched off by the
# htmx-config meta tag in base.html. data: images: the favicon and Bootstrap's SVG icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Uploaded evidence files: the largest single file accepted, in megabytes.
EVIDENCE_MAX_MB = env_int("EVIDENCE_MAX_MB", 20)

# Deadline extensions: a request must come at least this many days before the due date in
# force (0: on or before the due date itself); a later one is refused (services.py).
EXTENSION_REQUEST_LEAD_DAYS = env_int("EXTENSION_REQUEST_LEAD_DAYS", 0)

# --- Monthly report (reports/services.py) ------------------------------------------------------
# Signature block: authority line ("KT. GIÁM ĐỐC"), title ("PHÓ GIÁM ĐỐC") and signer's name.
# Empty authority/title: the usual ones for the kind of issuing agency; empty name: left blank.
REPORT_SIGNER_AUTHORITY = env_str("REPORT_SIGNER_AUTHORITY", "")
REPORT_SIGNER_TITLE = env_str("REPORT_SIGNER_TITLE", "")
REPORT_SIGNER_NAME = env_str("REPORT_SIGNER_NAME", "")
# "Nơi nhận" lines before the filing copy, separated by "|" (the lines contain commas); empty:
# the body the issuer reports to ("UBND tỉnh (để b/c)"), then the agencies carrying out tasks.
REPORT_DISTRIBUTION = [
    line.strip() for line in env_str("REPORT_DISTRIBUTION", "").split("|") if line.strip()
]
# The unit that keeps the filing copy: "Lưu: VT, CĐS."
REPORT_FILING_UNIT = env_str("REPORT_FILING_UNIT", "CĐS")
# E-mail addresses that receive every monthly report besides leaders and monitors.
REPORT_RECIPIENTS = env_list("REPORT_RECIPIENTS")
# Minutes after which a report still "being generated" (or e-mailed) is taken to be from a
# dead worker and may be claimed again; longer than the report tasks' time limit
# (REPORT_TASK_TIME_LIMIT seconds, reports/tasks.py).
REPORT_TASK_TIME_LIMIT = env_int("REPORT_TASK_TIME_LIMIT", 5 * 60)
REPORT_STALE_MINUTES = env_int("REPORT_STALE_MINUTES", 6)
# Minutes after which a draft still waiting to be rendered is taken to have lost its request
# (broker down when it was asked) and is sent again by the sweep (beat, every 5 minutes).
REPORT_RESEND_AFTER_MINUTES = env_int("REPORT_RESEND_AFTER_MINUTES", 2)
# Processes that lay out a monthly report's parts (the body, each appendix) side by side
# (reports/pdf.py): 0 = one per CPU this process may use; 1 = all in the job's own process.
REPORT_PDF_PROCESSES = env_int("REPORT_PDF_PROCESSES", 0)
# Digital signature of the issued report (reports/signing.py, PAdES): the agency's PKCS#12
# file (certificate and private key; empty: reports are issued unsigned), its passphrase, and
# an optional PNG of the agency's seal drawn under the signature (empty: a plain red seal).
# `make run` creates a demo certificate under var/signing/ when none is set.
REPORT_SIGNING_PKCS12 = env_str("REPORT_SIGNING_PKCS12", "")
REPORT_SIGNING_PASSPHRASE = env_str("REPORT_SIGNING_PASSPHRASE", "")
REPORT_SIGNING_SEAL_IMAGE = env_str("REPORT_SIGNING_SEAL_IMAGE", "")

# --- Webhooks (issue 17, webhooks/) -------------------------------------------------------------
# Send webhooks to loopback, private and reserved addresses too. Off in production: a webhook
# URL must not reach the server's own services or the internal network (webhooks/urlcheck.py).
# `make run` turns it on, so that a receiver on one's own machine can be tried.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
# Tries of a delivery before it is marked failed (a "Redeliver" starts a new cycle), the
# wait after the first failed try (doubled after each, at most an hour), and the seconds a
# receiver has to answer.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_RETRY_SECONDS = env_int("WEBHOOK_RETRY_SECONDS", 30)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
for _name, _value, _least in [
    ("WEBHOOK_MAX_ATTEMPTS", WEBHOOK_MAX_ATTEMPTS, 1),
    ("WEBHOOK_RETRY_SECONDS", WEBHOOK_RETRY_SECONDS, 1),
    ("WEBHOOK_TIMEOUT_SECONDS", WEBHOOK_TIMEOUT_SECONDS, 1),
]:
    if _value < _least:
        raise ImproperlyConfigured(f"{_name} must be at least {_least}, got {_value}.")

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an API client without credentials gets 401 with `WWW-Authenticate: Token`
    # (DRF takes the header from the first class). Our own pages use the session (with CSRF).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tasks_app.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "tasks_app.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "tasks_app.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "tasks_app.api.exceptions.exception_handler",
    # Rates read per request ("60/min", "2000/min"…); an empty value switches a throttle off.
    # Counters live in the default cache: per process unless CACHE_URL names Redis.
    "DEFAULT_THROTTLE_CLASSES": [
        "tasks_app.api.throttles.AnonThrottle",
        "tasks_app.api.throttles.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/min") or None,
        "user": env_str("API_THROTTLE_USER", "2000/min") or None,
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Issue 16 (deep JSON): DRF's parsers, JSON's refusing nesting deeper than
    # API_JSON_MAX_DEPTH with a 400 (a 10,000-deep body was a 500).
    "DEFAULT_PARSER_CLASSES": [
        "tasks_app.api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
# Issue 16: API tokens (tasks_app/tokens.py). Only a token's SHA-512 digest is stored; a token
# lasts API_TOKEN_DAYS days unless its maker asks for another lifetime (1 to
# API_TOKEN_MAX_DAYS), and a user holds at most API_TOKEN_LIMIT_PER_USER valid tokens.
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 365)
API_TOKEN_LIMIT_PER_USER = env_int("API_TOKEN_LIMIT_PER_USER", 20)
KNOX_TOKEN_MODEL = "tasks_app.ApiToken"
# knox's own migrations create its `knox_authtoken` table even when the model is swapped for
# ours (they do not mark it swappable); an empty table with a key to auth_user would then
# block the test database's flush. Without migrations, the swapped model gets no table.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_TTL": timedelta(days=API_TOKEN_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

# Issue 16 (deep JSON): how deep a JSON body sent to the API may nest (arrays and objects).
API_JSON_MAX_DEPTH = env_int("API_JSON_MAX_DEPTH", 32)

SPECTACULAR_SETTINGS = {
    "TITLE": "plan_tracker API",
    "DESCRIPTION": (
        "Tasks of the provincial digital-transformation plans: agencies, plans, tasks, "
        "status updates with evidence, deadline extensions and report counts. Authenticate "
        "with `Authorization: Token <token>` (POST /api/v1/auth/token/) or a session. "
        "Objects outside the user's scope answer 404; refused actions 403; a write with a "
        "stale `version` 409 with the current task. Messages are in Vietnamese unless "
        "`Accept-Language: en`."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page loads Swagger UI from our static files: it works with no internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TaskStateEnum": "tasks_app.choices.TaskState",
        "ReportCategoryEnum": "tasks_app.choices.ReportCategory",
        "ExtensionStatusEnum": "tasks_app.choices.ExtensionStatus",
        "UpdateKindEnum": "tasks_app.choices.UpdateKind",
        "RoleEnum": "tasks_app.choices.Role",
        "AgencyKindEnum": "tasks_app.choices.AgencyKind",
        "WebhookEventEnum": "webhooks.models.WebhookEvent",
    },
}

# --- Issue 16, "Password guessing": login lockout (django-axes) ------------------------------
# Failed logins on the login page, the admin and the API token endpoint are counted per
# account (username) and per client (address): LOGIN_FAILURE_LIMIT failures lock either one
# for LOGIN_LOCKOUT_MINUTES, and every failure during the lock restarts it. A success resets
# the count. Administrators see and delete the attempts in the admin (Axes), or run
# `manage.py axes_reset_username USERNAME` / `axes_reset_ip ADDRESS` / `axes_reset`.
# TRUSTED_PROXY_COUNT: reverse proxies in front of gunicorn that append to X-Forwarded-For;
# 0 ignores the header (plan_tracker/client_ip.py, used by the lockout and the throttles).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
for _name, _value, _least in [
    ("TRUSTED_PROXY_COUNT", TRUSTED_PROXY_COUNT, 0),
    ("LOGIN_FAILURE_LIMIT", LOGIN_FAILURE_LIMIT, 1),
    ("LOGIN_LOCKOUT_MINUTES", LOGIN_LOCKOUT_MINUTES, 1),
]:
    if _value < _least:
        raise ImproperlyConfigured(f"{_name} must be at least {_least}, got {_value}.")
# DRF's own reading of X-Forwarded-For, for a throttle that does not use client_ip (its
# default, None, believes the header).
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
INSTALLED_APPS.append("axes")
# The lockout backend first: it refuses a locked account before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Last, as axes asks: it turns a locked-out request into the lockout page.
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "plan_tracker.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "plan_tracker.lockout.lockout_response"
# Attempts live in the database (axes' default handler), shared by every web process.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# No start-up banner on every command; failed logins are still logged as warnings.
AXES_VERBOSE = False

# --- Issue 17: single sign-on with OpenID Connect (plan_tracker/oidc.py) ----------------------
# Off unless OIDC_RP_CLIENT_ID is set. The provider's endpoints come from its discovery
# document (OIDC_OP_ISSUER + /.well-known/openid-configuration, read once per process) unless
# an OIDC_OP_*_ENDPOINT variable names one. People are matched by OIDC_USERNAME_CLAIM to the
# local username (OIDC_MATCH_FIELD=email: to the e-mail address); the agency (its code) and
# the role come from OIDC_AGENCY_CLAIM and OIDC_ROLE_CLAIM when set
# (services.membership_grant_from_claims), else an administrator gives them.
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_ISSUER = env_str("OIDC_OP_ISSUER", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_OP_LOGOUT_ENDPOINT = env_str("OIDC_OP_LOGOUT_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile")
OIDC_USERNAME_CLAIM = env_str("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_MATCH_FIELD = env_str("OIDC_MATCH_FIELD", "username")
OIDC_AGENCY_CLAIM = env_str("OIDC_AGENCY_CLAIM", "")
OIDC_ROLE_CLAIM = env_str("OIDC_ROLE_CLAIM", "")
OIDC_DEFAULT_ROLE = env_str("OIDC_DEFAULT_ROLE", "officer")
OIDC_CREATE_USER = env_bool("OIDC_CREATE_USER", True)
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10)
OIDC_VERIFY_SSL = env_bool("OIDC_VERIFY_SSL", True)
# PKCE on the code; the ID token kept in the session as the logout hint for the provider.
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True
if OIDC_RP_CLIENT_ID:
    if not OIDC_RP_CLIENT_SECRET:
        raise ImproperlyConfigured("OIDC_RP_CLIENT_SECRET is required with OIDC_RP_CLIENT_ID.")
    _endpoints = [OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT]
    if not OIDC_OP_ISSUER and not (all(_endpoints) and OIDC_OP_JWKS_ENDPOINT):
        raise ImproperlyConfigured(
            "Single sign-on needs OIDC_OP_ISSUER, or OIDC_OP_AUTHORIZATION_ENDPOINT, "
            "OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT and OIDC_OP_JWKS_ENDPOINT."
        )
    if OIDC_MATCH_FIELD not in ("username", "email"):
        raise ImproperlyConfigured(
            f"OIDC_MATCH_FIELD must be username or email, got {OIDC_MATCH_FIELD!r}."
        )
    # The logout form posts to us and we redirect to the provider's end_session endpoint:
    # Chromium checks that redirect against the page's form-action.
    for _url in (OIDC_OP_ISSUER, OIDC_OP_LOGOUT_ENDPOINT):
        _origin = "/".join(_url.split("/")[:3])
        if _origin and _origin not in CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"]:
            CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(_origin)
# Last: it answers only the provider's callback (after axes' lockout check).
AUTHENTICATION_BACKENDS.append("plan_tracker.oidc.SsoBackend")

# --- Celery ---------------------------------------------------------------------------------
# Without CELERY_BROKER_URL, kombu's filesystem transport under var/celery/ carries the
# messages: a worker and beat run on one machine with no broker server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _celery_dir = VAR_DIR / "celery"
    # kombu's filesystem transport does not create its folders; a worker started by hand
    # (not through `make run`) would crash without them.
    for _folder in ("queue", "control", "processed"):
        (_celery_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "control_folder": str(_celery_dir / "control"),
        "processed_folder": str(_celery_dir / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # An unacknowledged task (acks_late) goes back to the queue when its worker is gone
    # this long: longer than the longest task (CELERY_TASK_TIME_LIMIT), else it would run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 20 * 60}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Issue 16, broker unreachable: sending a task gives up after a few seconds instead of
# hanging the request; the request is kept on its row and sent again by the sweep.
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 3)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
# A task whose worker process died (killed, out of memory) goes back to the queue.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 10 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Logging: to the console, so honcho and docker show it ----------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Issue 16, health: /health/ (plan_tracker/health.py, django-health-check) ------------------
INSTALLED_APPS += ["health_check"]  # its HTML template
# A load balancer or container probe asks over plain http inside the network: no redirect.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
# /health/ warns when Celery beat has sent no periodic task for this many minutes (its
# heartbeat runs every 5) or the daily reminder job has not finished for this many hours.
HEALTH_BEAT_MAX_MINUTES = env_int("HEALTH_BEAT_MAX_MINUTES", 15)
HEALTH_REMINDER_MAX_HOURS = env_int("HEALTH_REMINDER_MAX_HOURS", 26)
