"""Billow settings, read from the environment (12-factor).

Every knob has a safe default for the embedded demo: SQLite under ``var/``, the SqliteHuey job
queue in its own file, a secret key generated into ``var/`` on first run, console email.
Production sets ``DATABASE_URL`` (PostgreSQL), ``JOBS_URL`` (Redis), ``SECRET_KEY``,
``EMAIL_URL`` and ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("BILLOW_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a key generated once into var/secret_key."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
# Hosts besides the site's own that a payment's return_url may send the payer back to (an API
# client's own site); anything else is refused (no open redirect through the payment pages).
PAYMENT_RETURN_HOSTS = env.list("PAYMENT_RETURN_HOSTS", default=[])
# The sandbox gateway (a fake card page that pays anything) works only with DEBUG or this switch
# (the demo and the test suite set it); in production it is refused.
PAYMENTS_ALLOW_SANDBOX = env.bool("BILLOW_ALLOW_SANDBOX", default=False)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "billow.core",
    "billow.jobs",
    "billow.accounts",
    "billow.catalog",
    "billow.ledger",
    "billow.services",
    "billow.billing",
    "billow.notifications",
    "billow.payments",
    "billow.orders",
    "billow.invoicing",
    "billow.usage",
    "billow.marketing",
    "billow.support",
    "billow.web",
    "billow.api",
    "billow.demo",
    "billow.imports",
    "billow.inventory",
]

MIDDLEWARE = [
    "billow.ops.metrics.RequestLatencyMiddleware",  # outermost: times the whole request
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything parses a body: deeply nested or oversized JSON is a 400, not a 500.
    "billow.core.jsonlimits.JsonLimitMiddleware",
    # API answers, CSV exports and PDFs: Cache-Control: private, no-store.
    "billow.core.privacy.PrivateResponseMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "billow.web.referral_links.ReferralLinkMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "billow" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES: dict[str, dict[str, Any]] = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'billow.sqlite3'}"),
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers never deadlock on a read->write upgrade (STYLE §10).
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    )
    _db["TEST"] = {"NAME": os.environ.get("BILLOW_SQLITE_TEST_NAME") or None}
else:
    _db.setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    if env.bool("DB_SERVER_SIDE_BINDING", default=False):  # psycopg binds parameters server-side
        _db.setdefault("OPTIONS", {})["server_side_binding"] = True
    _db.setdefault("CONN_HEALTH_CHECKS", True)
    _db["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background jobs (Huey) -----------------------------------------------------------------
JOBS_URL = env.str("JOBS_URL", default="")
HUEY: dict[str, Any]
if JOBS_URL:
    HUEY = {
        # Every consumer may run the scheduler: a Redis lock hands each periodic task of a
        # minute to one of them (billow.jobs.storage.BillowRedisHuey).
        "huey_class": "billow.jobs.storage.BillowRedisHuey",
        "name": "billow",
        "url": JOBS_URL,
        "immediate": False,
        "consumer": {"workers": env.int("JOBS_WORKERS", default=4), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "billow.jobs.storage.BillowSqliteHuey",
        "name": "billow",
        "filename": str(VAR_DIR / "jobs.sqlite3"),
        "immediate": env.bool("JOBS_IMMEDIATE", default=False),
        "consumer": {"workers": env.int("JOBS_WORKERS", default=2), "worker_type": "thread"},
    }

# --- Multi-node: health, metrics (billow.ops; docs/operations.md "Multi-node layout") ---------
# /metrics answers only these addresses ("*": any; put it behind the private network).
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])

# --- Email ------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="billing@billow.localhost")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
#: Who gets staff notices (operation failed ...); empty = every active superuser with an email.
BILLOW_STAFF_EMAILS = env.list("BILLOW_STAFF_EMAILS", default=[])

# --- Auth -------------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if env.bool("BILLOW_FAST_HASHER", default=False):  # tests only
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- i18n -------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Security headers (hardened further with the client area) -------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own loggers (e.g. "Not Found" warnings of django.request) follow LOG_LEVEL too.
    "loggers": {"django": {"level": env.str("LOG_LEVEL", default="INFO")}},
}

UNFOLD = {
    "SITE_TITLE": "Billow admin",
    "SITE_HEADER": "Billow",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
}

# --- Client area & authentication (owned by the web app; edit only inside this block) ------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:dashboard"
# Shared cache: allauth's rate limits must be counted across every gunicorn worker and machine.
# Default: a table in the main database (created by the web app's migration); Redis or
# memcached by CACHE_URL (e.g. redis://127.0.0.1:6379/1).
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://billow_cache")}
# Email login only; usernames exist in the database (= the email) but are never shown.
ACCOUNT_ADAPTER = "billow.web.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = env.str("ACCOUNT_EMAIL_SUBJECT_PREFIX", default="[Billow] ")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="https")
# Rate limits on every auth route. login_failed: the 6th wrong password within a minute from
# one IP address is refused ("Too many failed login attempts"), and 5 per 5 minutes per email.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "10/m/ip",
    "reset_password": "10/m/ip,3/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Billow")
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_RATE_LIMITS = {"authenticate": "5/m/ip,10/5m/user", "reauthenticate": "10/m/user"}
# Social providers are configured in the admin (SocialApp) or here via env; none by default.
SOCIALACCOUNT_PROVIDERS: dict[str, Any] = {}
if not env.bool("BILLOW_FAST_HASHER", default=False):
    PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # verifies (and upgrades) old hashes
    ]
# Hashes brought over by `billow import` (docs/migration.md): verified once, then upgraded.
PASSWORD_HASHERS += [
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "billow.imports.hashers.WHMCSMD5PasswordHasher",
    "billow.imports.hashers.SHA512CryptPasswordHasher",
]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
# allauth is installed before billow.web, so its templates are overridden from DIRS.
_templates: Any = TEMPLATES[0]
_templates["DIRS"].insert(0, BASE_DIR / "billow" / "web" / "templates")
_templates["OPTIONS"]["context_processors"] += [
    "django.template.context_processors.i18n",
    "billow.web.context_processors.client_area",
]
LOCALE_PATHS = [BASE_DIR / "billow" / "web" / "locale"]
# Strict CSP: only our own scripts and styles (htmx and uPlot are vendored static files);
# data: images for the TOTP QR code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
    # the admin (unfold) uses inline scripts and styles
    "EXCLUDE_URL_PREFIXES": ["/admin/", "/api/docs/"],
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 7)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
UNFOLD["DASHBOARD_CALLBACK"] = "billow.web.admin_dashboard.dashboard_callback"
# --- end of the client area & authentication block -----------------------------------------

# --- REST API (owned by the api app; edit only inside this block) ----------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_SCHEMA_CLASS": "billow.api.schema.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "billow.api.authentication.BearerTokenAuthentication",
        "billow.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["billow.api.permissions.ScopePermission"],
    # JSON only: the schema then advertises one content type and fuzzers send only that.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "billow.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "billow.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "billow.api.throttling.AnonThrottle",
        "billow.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="120/min"),
        "user": env.str("API_THROTTLE_USER", default="3000/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # No OPTIONS metadata: it would describe serializers of views that have none (a 405 instead).
    "DEFAULT_METADATA_CLASS": None,
}
SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "Billow API",
    "VERSION": "1.0.0",
    "DESCRIPTION": "Billing for hosting providers. See docs/api.md for auth, scopes, "
    "idempotency and errors.",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "billow.api.schema.add_error_component",
    ],
    "PREPROCESSING_HOOKS": ["billow.api.schema.only_v1"],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "billow.orders.models.OrderStatus",
        "PaymentStatusEnum": "billow.payments.states.PaymentStatus",
        "RefundStatusEnum": "billow.payments.models.RefundStatus",
        "InvoiceStatusEnum": "billow.invoicing.models.InvoiceStatus",
    },
}
# A claimed Idempotency-Key still unanswered after this long is taken over by a repeat (its
# request crashed); records are purged this many hours after their claim (hourly job).
API_IDEMPOTENCY_STALE_SECONDS = env.int("API_IDEMPOTENCY_STALE_SECONDS", default=300)
API_IDEMPOTENCY_RETENTION_HOURS = env.int("API_IDEMPOTENCY_RETENTION_HOURS", default=168)
# --- end of the REST API block ---------------------------------------------------------------

# Billow runtime defaults (admin-editable parameters come later).
BILLOW = {
    "LEDGER_BULK_BATCH": env.int("BILLOW_LEDGER_BULK_BATCH", default=5000),
    "BILLING_CHUNK_SERVICES": env.int("BILLOW_BILLING_CHUNK_SERVICES", default=5000),
    "BILLING_NOTICE_DAYS": env.int("BILLOW_BILLING_NOTICE_DAYS", default=3),
    "BILLING_DELETE_MANUAL_SUSPENDED": env.bool(
        "BILLOW_BILLING_DELETE_MANUAL_SUSPENDED", default=False
    ),
    # A quick-ordered service still unconfigured this many days after its order is deleted and
    # its price refunded to the balance (0: kept until configured).
    "QUICK_ORDER_CONFIGURE_DAYS": env.int("BILLOW_QUICK_ORDER_CONFIGURE_DAYS", default=30),
    # Issued documents are emailed (PDF attached) this long after their transaction commits.
    "DOCUMENT_EMAIL_DELAY_SECONDS": env.int("BILLOW_DOCUMENT_EMAIL_DELAY_SECONDS", default=120),
    # Usage (docs/usage.md): records older than USAGE_LATE_DAYS days are refused as too late;
    # raw records (PostgreSQL partitions) older than USAGE_RETENTION_DAYS days are dropped;
    # partitions are created USAGE_PARTITIONS_AHEAD days ahead.
    "USAGE_LATE_DAYS": env.int("BILLOW_USAGE_LATE_DAYS", default=7),
    "USAGE_RETENTION_DAYS": env.int("BILLOW_USAGE_RETENTION_DAYS", default=400),
    "USAGE_PARTITIONS_AHEAD": env.int("BILLOW_USAGE_PARTITIONS_AHEAD", default=7),
    # Records per ingestion transaction; on PostgreSQL a second thread writes one batch while
    # the next is parsed (USAGE_INGEST_PIPELINE), so an upload holds at most two in memory.
    "USAGE_INGEST_BATCH": env.int("BILLOW_USAGE_INGEST_BATCH", default=50000),
    "USAGE_INGEST_PIPELINE": env.bool("BILLOW_USAGE_INGEST_PIPELINE", default=True),
    # Bulk uploads on PostgreSQL: lines COPYed to staging, checked and stored in SQL (usage.bulk).
    "USAGE_INGEST_SQL": env.bool("BILLOW_USAGE_INGEST_SQL", default=True),
    # A resource status is "approaching" from this % of the addon's included amount (notice).
    "USAGE_APPROACHING_PERCENT": env.int("BILLOW_USAGE_APPROACHING_PERCENT", default=80),
}

# --- Staff admin: MFA, log in as client, client status (billow.web; edit only inside this block)
# Staff without a TOTP authenticator or a passkey are sent to MFA enrolment before any admin
# page. On unless turned off here; `billow demo` and the test suite's defaults turn it off.
BILLOW_STAFF_MFA_REQUIRED = env.bool("BILLOW_STAFF_MFA_REQUIRED", default=True)
MIDDLEWARE.insert(
    MIDDLEWARE.index("allauth.account.middleware.AccountMiddleware") + 1,
    "billow.web.staff_mfa.StaffMFAMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("billow.web.staff_mfa.StaffMFAMiddleware") + 1,
    "billow.web.impersonation.ImpersonationGuardMiddleware",
)
# The admin's Ctrl-K palette searches clients, services, invoices and payments (admin_search).
UNFOLD["COMMAND"] = {"search_callback": "billow.web.admin_search.command_search"}
# A client is active while it has an active service or its balance moved within this many days.
BILLOW_CLIENT_ACTIVE_DAYS = env.int("BILLOW_CLIENT_ACTIVE_DAYS", default=90)
# --- end of the staff admin block -------------------------------------------------------------

# --- Support center (billow.support; edit only inside this block) ---------------------------
# Replies go to <local>+<signed ticket token>@<domain> of this address; the mail gateway
# (`billow support_mail_gateway`, SMTP or LMTP) must receive that domain's mail.
SUPPORT_REPLY_ADDRESS = env.str("SUPPORT_REPLY_ADDRESS", default="support@billow.localhost")
SUPPORT_ATTACHMENT_MAX_BYTES = env.int("SUPPORT_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
SUPPORT_ATTACHMENT_TYPES = env.list(
    "SUPPORT_ATTACHMENT_TYPES",
    default=[".png", ".jpg", ".jpeg", ".gif", ".pdf", ".txt", ".log", ".zip"],
)
# Dotted path to a callable(name, content: bytes) -> str | None: a reason to refuse (a virus
# found), or None. Empty: no scan. billow.support.scan.clamd_scan talks to clamd.
SUPPORT_VIRUS_SCANNER = env.str("SUPPORT_VIRUS_SCANNER", default="")
SUPPORT_CLAMD_SOCKET = env.str("SUPPORT_CLAMD_SOCKET", default="/var/run/clamav/clamd.ctl")
SUPPORT_MAIL_GATEWAY_HOST = env.str("SUPPORT_MAIL_GATEWAY_HOST", default="127.0.0.1")
SUPPORT_MAIL_GATEWAY_PORT = env.int("SUPPORT_MAIL_GATEWAY_PORT", default=8025)
SUPPORT_MAX_EMAIL_BYTES = env.int("SUPPORT_MAX_EMAIL_BYTES", default=25 * 1024 * 1024)
# Uploaded files (ticket attachments) of the default file storage; S3 and the like replace
# STORAGES["default"] instead.
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# --- end of the support block ---------------------------------------------------------------

# --- S3 storage on Ceph RGW (issue 15; the demo only: real instances are configured by staff) --
# With CEPH_RGW_URL set, `billow demo` puts the "S3 Standard" tariff on a ceph_rgw module
# instance at that gateway (scripts/ceph-up.sh prints the URL and the admin keys); without it
# the tariff runs on the dummy module.
CEPH_RGW_URL = env.str("CEPH_RGW_URL", default="")
CEPH_RGW_ADMIN_ACCESS_KEY = env.str("CEPH_RGW_ADMIN_ACCESS_KEY", default="")
CEPH_RGW_ADMIN_SECRET_KEY = env.str("CEPH_RGW_ADMIN_SECRET_KEY", default="")
CEPH_RGW_WEBSITE_SUFFIX = env.str("CEPH_RGW_WEBSITE_SUFFIX", default="s3-website.localhost:17480")
# --- end of the S3 storage block ------------------------------------------------------------
# -- VPS consoles (docs/vps.md) ------------------------------------------------------------------
# The websocket URL of the console proxy (``python -m billow.services.console_proxy``) as the
# browser reaches it, e.g. wss://console.example.com; empty: no console button.
BILLOW_CONSOLE_PROXY_URL = env("BILLOW_CONSOLE_PROXY_URL", default="")
