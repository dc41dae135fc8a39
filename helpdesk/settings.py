"""Settings for the help desk.

Every value that differs between the zero-setup demo and the production stack comes from an
environment variable. With none set, the product runs on SQLite with Celery in eager mode and
talks to the demo platform on loopback.
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_positive_int(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ImproperlyConfigured(
            f"{name}={text!r} is not a positive whole number: set it to 1 or more, or unset it "
            f"for the default {default}."
        )
    return int(text)


DEBUG = env_bool("DJANGO_DEBUG", False)

# NOTE: the fallback key only suits the local demo; docker-compose and any real deployment set
# DJANGO_SECRET_KEY.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-demo-key-set-DJANGO_SECRET_KEY")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "simple_history",
    "axes",
    "helpdesk",
    "customers",
    "telemetry",
    "diagnostics",
    "actions",
    "tickets",
    "playbooks",
    "demo_platform",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "helpdesk.middleware.OperatorTimezoneMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: it turns a lockout raised during login into its response.
    "axes.middleware.AxesMiddleware",
]

# Failed logins are counted per username and address pair. After AXES_FAILURE_LIMIT failures
# that pair is locked out for AXES_COOLOFF_TIME, so a password cannot be guessed from one place
# while the operator can still log in from another. `manage.py axes_reset` lifts every lockout.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_positive_int("HELPDESK_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
# The lockout page promises 15 minutes from the lockout, so tries during it do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# NOTE: the address is REMOTE_ADDR. Behind a reverse proxy every login shares the proxy's
# address, so one attacker could lock a username out for everyone: configure the proxy count
# (django-axes' ipware settings) before deploying behind one.

ROOT_URLCONF = "helpdesk.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "helpdesk.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and immediate transactions let the web server and the demo platform's ingest requests
    # write side by side without "database is locked" errors.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not the in-memory default: browser tests serve several threads and the demo
    # platform at once, and in-memory SQLite locks whole tables between them. The process id
    # keeps test runs started side by side from sharing one file.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"helpdesk-test-{os.getpid()}.sqlite3")
    }

USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if USING_POSTGRES:
    # The queries here are short index lookups; JIT compilation added hundreds of milliseconds
    # to ones whose estimated cost passed jit_above_cost on a million-customer database.
    # The GIN limit caps what customer search's word index returns for a common name, because
    # "John Smith" matched 35,000 customers before the LIMIT of 200 candidates applied. The rows
    # kept are an approximately random subset.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        "-c jit=off -c gin_fuzzy_search_limit=2000"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Operators see times in this zone unless their browser sends another one in a cookie.
OPERATOR_DEFAULT_TIME_ZONE = os.environ.get("HELPDESK_OPERATOR_TIME_ZONE", "UTC")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
}
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Redis is optional: without REDIS_URL the demo runs Celery tasks eagerly in the web process and
# caches in memory.
REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "helpdesk",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("HELPDESK_CELERY_QUEUE", "celery")
CELERY_BEAT_SCHEDULE: dict = {}

# The agent platform's control API. The demo platform listens here by default.
PLATFORM_API_URL = os.environ.get("PLATFORM_API_URL", "http://127.0.0.1:8100")
PLATFORM_API_TOKEN = os.environ.get("PLATFORM_API_TOKEN", "demo-platform-token")
PLATFORM_API_TIMEOUT_SECONDS = float(os.environ.get("PLATFORM_API_TIMEOUT_SECONDS", "10"))

# Bearer tokens the platform presents on the OTLP and state-event endpoints, comma-separated.
# NOTE: the fallback token only suits the local demo; production sets HELPDESK_INGEST_TOKENS.
INGEST_TOKENS = env_list("HELPDESK_INGEST_TOKENS", "demo-ingest-token")
# Largest accepted ingest body, after gzip decoding, in bytes.
INGEST_MAX_BODY_BYTES = int(os.environ.get("HELPDESK_INGEST_MAX_BODY_BYTES", str(16 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = INGEST_MAX_BODY_BYTES

# Region used to read phone numbers written without a country code.
PHONE_DEFAULT_REGION = os.environ.get("HELPDESK_PHONE_DEFAULT_REGION", "US")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("HELPDESK_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes logs its configuration and every login at INFO. Lockouts are warnings.
        "axes": {"level": "WARNING"},
    },
}

# Enqueue quick actions left pending by a broker outage, and fail those whose worker died.
CELERY_BEAT_SCHEDULE["actions-requeue-stale"] = {
    "task": "actions.tasks.requeue_stale_quick_actions",
    "schedule": 60.0,
}

# The proactive scan for active issues: how often beat runs it, and how many customers one run
# diagnoses at most. Without Redis (the demo) no beat runs, so the dashboard starts the scan on a
# thread of the web process at most once per interval, unless HELPDESK_SCAN_IN_WEB=0.
HELPDESK_SCAN_INTERVAL_SECONDS = int(os.environ.get("HELPDESK_SCAN_INTERVAL_SECONDS", "60"))
HELPDESK_SCAN_CUSTOMER_LIMIT = int(os.environ.get("HELPDESK_SCAN_CUSTOMER_LIMIT", "500"))
HELPDESK_SCAN_IN_WEB = env_bool("HELPDESK_SCAN_IN_WEB", not REDIS_URL)
CELERY_BEAT_SCHEDULE["diagnostics-scan-active-issues"] = {
    "task": "diagnostics.tasks.scan_active_issues",
    "schedule": float(HELPDESK_SCAN_INTERVAL_SECONDS),
}

# ninja serves the API docs page's Swagger UI from its own static files, found as an app's.
INSTALLED_APPS += ["ninja"]

# SQLite builds covering indexes without their INCLUDE columns, which is all the demo needs, but
# Django warns about it (models.W040) on every command for telemetry.Interaction's
# ix_customer_time_status.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
