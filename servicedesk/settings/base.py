"""Settings shared by every environment.

Every integration is configured by one environment variable (see README). With none set the
project runs embedded: SQLite, an in-memory channel layer and Celery in eager mode.
"""
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="django-insecure-local-development-key-change-me-0123456789")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "channels",
    "axes",
    "accounts",
    "feeds",
    "tickets",
    "communities",
    "gamification",
    "policies",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "servicedesk.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "servicedesk.contract.ContractQueryMiddleware",
]

ROOT_URLCONF = "servicedesk.urls"
WSGI_APPLICATION = "servicedesk.wsgi.application"
ASGI_APPLICATION = "servicedesk.asgi.application"

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
                "feeds.context_processors.unread_notifications",
            ],
        },
    },
]

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout: repeated wrong passwords for one account lock it for the cool-off period; one device
# (IP + browser) guessing across many accounts is locked too. IP alone is not a parameter, so one
# office behind a shared address cannot lock all its people out with a handful of typos.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", ["ip_address", "user_agent"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0) or None

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Redis: channel layer, cache, Celery broker. Unset means embedded single-process mode.
REDIS_URL = env("REDIS_URL", default="")
CHANNEL_PREFIX = env("CHANNEL_PREFIX", default="asgi")
CHANNEL_LAYER_SOCKET_TIMEOUT = 15.0
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py reads time out after 5 s by default, the same time channels_redis blocks
                # waiting for a message: an idle socket's consumer would crash every few seconds.
                "hosts": [{"address": REDIS_URL, "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT}],
                "prefix": CHANNEL_PREFIX,
                "capacity": 500,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHANNEL_PREFIX,
            "TIMEOUT": 300,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="servicedesk")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=30.0)
# An outbox row younger than this is left to the task enqueued on commit.
OUTBOX_SWEEP_GRACE_SECONDS = env.float("OUTBOX_SWEEP_GRACE_SECONDS", default=10.0)
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {"task": "feeds.tasks.outbox_sweep", "schedule": OUTBOX_SWEEP_SECONDS},
}

# --- E-mail
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
globals().update(EMAIL_CONFIG)
EMAIL_BACKEND = env("EMAIL_BACKEND", default=EMAIL_CONFIG["EMAIL_BACKEND"])
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Service Desk <servicedesk@localhost>")
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# --- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "servicedesk.api.Pagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "servicedesk.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "servicedesk.schema.ContractAutoSchema",
    "DEFAULT_THROTTLE_RATES": {"auth_token": env("TOKEN_THROTTLE_RATE", default="10/min")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["servicedesk.contract.ContractJSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Service Desk API",
    "DESCRIPTION": "Tickets, feeds, communities, gamification and communication policies.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get their own components, so input rules (patterns, required) stay off responses.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "servicedesk.schema.add_component_rules",
    ],
    "ENUM_NAME_OVERRIDES": {
        "TicketVisibilityEnum": "tickets.models.Visibility",
        "CommunityVisibilityEnum": "communities.models.Community.Visibility",
        "TicketKindEnum": "tickets.models.Kind",
        "TicketStatusEnum": "tickets.models.Status",
    },
}

# --- Live updates
LIVE_TICKET_TTL_SECONDS = 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Tickets
DEFAULT_TICKET_TEAM = env("DEFAULT_TICKET_TEAM", default="service-desk")
SECURITY_TEAM = env("SECURITY_TEAM", default="security")
TICKET_REOPEN_DAYS = env.int("TICKET_REOPEN_DAYS", default=7)
SLA_WARNING_MINUTES = env.int("SLA_WARNING_MINUTES", default=30)
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_MB", default=10) * 1024 * 1024
ATTACHMENT_UNCLAIMED_HOURS = env.int("ATTACHMENT_UNCLAIMED_HOURS", default=24)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
CELERY_BEAT_SCHEDULE.update(
    {
        "sla-check": {"task": "tickets.tasks.sla_check", "schedule": env.float("SLA_CHECK_SECONDS", default=60.0)},
        "close-resolved": {"task": "tickets.tasks.close_stale", "schedule": 3600.0},
        "attachments-purge": {"task": "tickets.tasks.attachments_purge", "schedule": 3600.0},
        "daily-digest": {"task": "feeds.tasks.send_digests", "schedule": crontab(hour=env.int("DIGEST_HOUR_UTC", default=7), minute=0)},
    }
)

# --- Communities
QUESTION_TO_TICKET_HOURS = env.int("QUESTION_TO_TICKET_HOURS", default=24)

# --- Gamification: how often the leaderboards in Redis are checked against the points ledger.
LEADERBOARD_RECONCILE_SECONDS = env.float("LEADERBOARD_RECONCILE_SECONDS", default=900.0)
CELERY_BEAT_SCHEDULE["leaderboard-reconcile"] = {
    "task": "gamification.tasks.leaderboards_reconcile", "schedule": LEADERBOARD_RECONCILE_SECONDS,
}

# --- Communication policies and listening
POLICIES_HTTP_TIMEOUT = env.float("POLICIES_HTTP_TIMEOUT", default=10.0)
POLICIES_CONNECT_TIMEOUT = env.float("POLICIES_CONNECT_TIMEOUT", default=5.0)
POLICIES_MAX_ATTEMPTS = env.int("POLICIES_MAX_ATTEMPTS", default=5)
POLICIES_RETRY_BASE_SECONDS = env.float("POLICIES_RETRY_BASE_SECONDS", default=10.0)
POLICIES_RETRY_MAX_SECONDS = env.float("POLICIES_RETRY_MAX_SECONDS", default=900.0)
POLICIES_SWEEP_SECONDS = env.float("POLICIES_SWEEP_SECONDS", default=30.0)
POLICIES_STUCK_GRACE_SECONDS = env.float("POLICIES_STUCK_GRACE_SECONDS", default=60.0)
POLICIES_PUBLIC_HOSTS = env.list("POLICIES_PUBLIC_HOSTS", default=[])
POLICIES_INTERNAL_DOMAINS = env.list(
    "POLICIES_INTERNAL_DOMAINS", default=["corp", "local", "localdomain", "internal", "intra", "intranet", "lan", "private"]
)
LISTENING_POLL_SECONDS = env.float("LISTENING_POLL_SECONDS", default=300.0)
LISTENING_NEGATIVE_THRESHOLD = env.float("LISTENING_NEGATIVE_THRESHOLD", default=-0.4)
CELERY_BEAT_SCHEDULE.update(
    {
        "outbound-sweep": {"task": "policies.tasks.outbound_sweep", "schedule": POLICIES_SWEEP_SECONDS},
        "listening-poll": {"task": "policies.tasks.listening_poll", "schedule": LISTENING_POLL_SECONDS},
    }
)
