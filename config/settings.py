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
    "billow.accounts",
    "billow.catalog",
    "billow.ledger",
    "billow.services",
    "billow.billing",
    "billow.notifications",
    "billow.payments",
    "billow.orders",
    "billow.invoicing",
    "billow.marketing",
    "billow.web",
    "billow.api",
    "billow.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
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
    _db.setdefault("CONN_HEALTH_CHECKS", True)
    _db["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background jobs (Huey) -----------------------------------------------------------------
JOBS_URL = env.str("JOBS_URL", default="")
HUEY: dict[str, Any]
if JOBS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "billow",
        "url": JOBS_URL,
        "immediate": False,
        "consumer": {"workers": env.int("JOBS_WORKERS", default=4), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "billow",
        "filename": str(VAR_DIR / "jobs.sqlite3"),
        "immediate": env.bool("JOBS_IMMEDIATE", default=False),
        "consumer": {"workers": env.int("JOBS_WORKERS", default=2), "worker_type": "thread"},
    }

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
# --- end of the client area & authentication block -----------------------------------------

# --- REST API (owned by the api app; edit only inside this block) ----------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "Billow API",
    "VERSION": "1.0.0",
}
# --- end of the REST API block ---------------------------------------------------------------

# Billow runtime defaults (admin-editable parameters come later).
BILLOW = {
    "LEDGER_BULK_BATCH": env.int("BILLOW_LEDGER_BULK_BATCH", default=5000),
    "BILLING_CHUNK_SERVICES": env.int("BILLOW_BILLING_CHUNK_SERVICES", default=5000),
    "BILLING_NOTICE_DAYS": env.int("BILLOW_BILLING_NOTICE_DAYS", default=3),
    "BILLING_DELETE_MANUAL_SUSPENDED": env.bool(
        "BILLOW_BILLING_DELETE_MANUAL_SUSPENDED", default=False
    ),
}
