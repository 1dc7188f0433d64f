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
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "accounts",
    "feeds",
    "tickets",
    "intake",
    "communities",
    "gamification",
    "policies",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servicedesk.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "servicedesk.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "feeds.middleware.LiveMarksMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "servicedesk.ratelimit.RateLimitMiddleware",
    "servicedesk.contract.ContractQueryMiddleware",
    # A page view's refusals (404 / 403 ApplicationError) answered as pages (servicedesk/pages.py).
    "servicedesk.pages.PageRefusalMiddleware",
    # Last, so its process_exception sees a view's errors first: a saturated pool answers 503.
    "servicedesk.overload.OverloadMiddleware",
]
# Retry-After on a 503 answered because no database connection was free (servicedesk/overload.py).
OVERLOAD_RETRY_AFTER_SECONDS = env.int("OVERLOAD_RETRY_AFTER_SECONDS", default=2)
# /healthz pings Redis at most this often per process and reuses the answer in between.
HEALTH_REDIS_CACHE_SECONDS = env.float("HEALTH_REDIS_CACHE_SECONDS", default=1.0)

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
            "builtins": ["servicedesk.templatetags.cached_url", "servicedesk.templatetags.form_field",
                         "servicedesk.templatetags.site_header", "servicedesk.templatetags.avatar",
                         "servicedesk.templatetags.cached_static"],
        },
    },
]

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))


def pooled(database: dict) -> dict:
    """PostgreSQL through a bounded psycopg 3 pool per process (Django's native pool).

    Under ASGI every request runs in a thread of its own, so a persistent connection (CONN_MAX_AGE)
    is never reused and each concurrent request opened one until PostgreSQL refused more ("too many
    clients"). A pool caps a process at DB_POOL_MAX connections; a request that finds none free
    waits up to DB_POOL_TIMEOUT seconds and then answers 503 with Retry-After (servicedesk/overload.py).
    DB_POOL=false turns it off (CONN_MAX_AGE applies again). SQLite is left as it is."""
    if database.get("ENGINE") != "django.db.backends.postgresql" or not env.bool("DB_POOL", default=True):
        return database
    database.setdefault("OPTIONS", {})["pool"] = {
        # 1 by default: Celery's prefork children close their pool after every task, and a larger
        # minimum would open that many connections per task there.
        "min_size": env.int("DB_POOL_MIN", default=1),
        "max_size": env.int("DB_POOL_MAX", default=10),
        "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),
    }
    database["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with a pool
    return database


pooled(DATABASES["default"])
# The page queries compiled once (servicedesk/prepared.py) also run as server-side prepared
# statements on PostgreSQL. psycopg prepares nothing while its threshold is None (Django's default);
# a threshold no query reaches lets the ones asked for be prepared and leaves every other query as
# Django runs it. Off behind a transaction-mode PgBouncer older than 1.21.
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
if DB_PREPARED_STATEMENTS and DATABASES["default"].get("ENGINE") == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 2**31 - 1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend reading the request's user through a prepared query. Sessions signed in
    # under "django.contrib.auth.backends.ModelBackend" (before this) are asked to sign in again.
    "accounts.backends.ModelBackend",
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

# How many reverse proxies of ours append to X-Forwarded-For in front of the application. 0 (the
# default) ignores the header: the client address is the socket's peer. Every rate limit and
# lockout reads the address through servicedesk.net.client_ip, which follows this one setting, as
# do DRF's throttles (NUM_PROXIES below). docker-compose.yml runs one proxy and sets 1.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)

# Sign-in guard (accounts/guard.py), for the sign-in page and the token endpoint alike:
# - by account: SIGNIN_FAILURE_LIMIT wrong passwords for one username from any device lock it for
#   SIGNIN_COOLOFF, and each further failure doubles the wait up to SIGNIN_MAX_COOLOFF;
# - by address: SIGNIN_IP_FAILURE_LIMIT wrong passwords from one address within SIGNIN_IP_WINDOW
#   hold it back, whatever usernames or browsers it rotates through (set above the account limit
#   so one office behind a shared address is not stopped by a few typos);
# - the owner's usual device (a signed cookie set at sign-in, kept SIGNIN_DEVICE_DAYS) is never
#   held back by what others did; only its own failures count. The owner is told once per
#   SIGNIN_FAILURE_WINDOW when their account is being guessed at.
SIGNIN_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
SIGNIN_COOLOFF = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
SIGNIN_MAX_COOLOFF = timedelta(hours=env.int("SIGNIN_MAX_COOLOFF_HOURS", default=24))
SIGNIN_FAILURE_WINDOW = timedelta(hours=env.int("SIGNIN_FAILURE_WINDOW_HOURS", default=24))
SIGNIN_IP_FAILURE_LIMIT = env.int("SIGNIN_IP_FAILURE_LIMIT", default=20)
SIGNIN_IP_WINDOW = timedelta(minutes=env.int("SIGNIN_IP_WINDOW_MINUTES", default=15))
SIGNIN_DEVICE_COOKIE = "sd_device"
SIGNIN_DEVICE_MAX_AGE = env.int("SIGNIN_DEVICE_DAYS", default=180) * 24 * 3600

# django-axes keeps its audit trail of attempts (admin: Axes) with the same client address; the
# decision to refuse is the guard's, which axes cannot make (per-parameter limits, progressive
# waits, the owner's device exempt).
AXES_FAILURE_LIMIT = SIGNIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = SIGNIN_COOLOFF
AXES_LOCK_OUT_AT_FAILURE = False
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "servicedesk.net.client_ip"

# API tokens: stored as SHA-256 digests, valid for API_TOKEN_TTL_HOURS after they are issued;
# POST /api/v1/auth/token/rotate/ swaps a valid token for a fresh one.
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=720)
API_TOKEN_MAX_ACTIVE = 20

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
# The product speaks English only. With translation on, every label, message and date a page
# renders looked up the active language in a context-local (about 200 lookups per ticket page).
USE_I18N = False
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
# How long a request or socket handshake waits for Redis (cache, broker publish, channel layer)
# before carrying on without it: the outbox sweep and client resume make up for what was skipped.
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=1.0)
LIVE_LAYER_TIMEOUT_SECONDS = env.float("LIVE_LAYER_TIMEOUT_SECONDS", default=2.0)
# Channel layer connections per process and event loop, and how long a caller waits for a free one.
REDIS_MAX_CONNECTIONS = env.int("REDIS_MAX_CONNECTIONS", default=50)
REDIS_POOL_TIMEOUT = env.float("REDIS_POOL_TIMEOUT", default=10.0)
# A socket's group memberships expire after this long unless renewed: open sockets renew theirs
# every third of it, so channels whose disconnect never cleaned up stop being sent to in minutes.
LIVE_GROUP_EXPIRY_SECONDS = env.int("LIVE_GROUP_EXPIRY_SECONDS", default=300)
# Sessions live in PostgreSQL, so signing in and staying signed in never depend on Redis; each
# request reads its session through a prepared statement (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Bounded pool per process (and event loop): bursts wait for a connection, never fail.
            "BACKEND": "servicedesk.channel_layer.PooledRedisChannelLayer",
            "CONFIG": {
                # redis-py reads time out after 5 s by default, the same time channels_redis blocks
                # waiting for a message: an idle socket's consumer would crash every few seconds.
                "hosts": [{
                    "address": REDIS_URL,
                    "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT,
                    "max_connections": REDIS_MAX_CONNECTIONS,
                    "pool_timeout": REDIS_POOL_TIMEOUT,
                }],
                "prefix": CHANNEL_PREFIX,
                "capacity": 500,
                "group_expiry": LIVE_GROUP_EXPIRY_SECONDS,
            },
        }
    }
    CACHES = {
        "default": {
            # Throttle counters and memoised reads only: while Redis is down they miss, pages answer.
            "BACKEND": "servicedesk.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHANNEL_PREFIX,
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT, "socket_timeout": REDIS_CONNECT_TIMEOUT},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"group_expiry": LIVE_GROUP_EXPIRY_SECONDS}}
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# No ack emulation: with it, a worker holding an unacknowledged task when Redis restarts tries to
# restore it through the lost connection and exits ("Unrecoverable error"). Nothing relies on the
# broker redelivering: outbox rows and outbound posts stay in PostgreSQL until sent, and their
# sweeps send whatever a lost or killed task left behind.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "ack_emulation": env.bool("CELERY_ACK_EMULATION", default=False),
}
# Publishing a task after commit: one quick retry (a stale pooled connection after a Redis restart),
# then give up and leave the row to the outbox sweep instead of holding the request.
OUTBOX_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="servicedesk")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=30.0)
# An outbox row younger than this is left to the task enqueued on commit.
OUTBOX_SWEEP_GRACE_SECONDS = env.float("OUTBOX_SWEEP_GRACE_SECONDS", default=10.0)
# One sweep drains pending rows in batches until none is due or its time budget is spent.
OUTBOX_SWEEP_BUDGET_SECONDS = env.float("OUTBOX_SWEEP_BUDGET_SECONDS", default=20.0)
OUTBOX_SWEEP_BATCH = env.int("OUTBOX_SWEEP_BATCH", default=500)
# E-mails go out in tasks of this many rows, each over one connection to the mail server. Small
# enough that a worker child is not held for seconds (a child sends ~40 e-mails a second on 2 cores)
# while a big incident's next delivery chunks wait.
OUTBOX_EMAIL_BATCH = env.int("OUTBOX_EMAIL_BATCH", default=50)
# E-mail tasks are published at this priority (Redis broker: 0 is served first, 9 last), behind
# fan-out and delivery chunks, which go at the default (0).
OUTBOX_EMAIL_PRIORITY = env.int("OUTBOX_EMAIL_PRIORITY", default=9)
# An activity telling or addressing more people than this hands per-person delivery (feed
# entries, notifications, e-mails) to workers, FANOUT_CHUNK people a task, and reaches their open
# sockets as one broadcast per server process (feeds/live_broadcast.py) instead of a message each.
FANOUT_INLINE_MAX = env.int("FANOUT_INLINE_MAX", default=20)
FANOUT_CHUNK = env.int("FANOUT_CHUNK", default=250)
# Personal live pushes run this many groups at once (well under redis-py's pool of 100).
LIVE_SEND_CONCURRENCY = env.int("LIVE_SEND_CONCURRENCY", default=32)
CELERY_BEAT_SCHEDULE = {
    # A sweep not started within one interval is dropped (a newer one follows): no pile-up after
    # an outage.
    "outbox-sweep": {
        "task": "feeds.tasks.outbox_sweep", "schedule": OUTBOX_SWEEP_SECONDS,
        "options": {"expires": max(1.0, OUTBOX_SWEEP_SECONDS)},
    },
    "api-tokens-purge": {"task": "accounts.tasks.api_tokens_purge", "schedule": 24 * 3600.0},
}

# --- E-mail
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
globals().update(EMAIL_CONFIG)
EMAIL_BACKEND = env("EMAIL_BACKEND", default=EMAIL_CONFIG["EMAIL_BACKEND"])
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Service Desk <servicedesk@localhost>")
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
# The desk's own mailbox: notification e-mails about a ticket name it as Reply-To, and the domain
# of the Message-IDs the desk makes (so its own mail is recognised when it comes back in).
MAIL_DESK_ADDRESS = env("MAIL_DESK_ADDRESS", default="Service Desk <desk@localhost>")
MAIL_DOMAIN = env("MAIL_DOMAIN", default="servicedesk.localhost")
# Inbound e-mail: the largest message imported (larger ones are refused with a reply), how many
# messages one sender may send in an hour, how often the IMAP mailboxes are polled, and the port
# of the SMTP/LMTP receiver `make run` starts (unset: no receiver; it listens on 127.0.0.1).
INBOUND_MAIL_MAX_BYTES = env.int("INBOUND_MAIL_MAX_BYTES", default=15 * 1024 * 1024)
INBOUND_MAIL_PER_SENDER_PER_HOUR = env.int("INBOUND_MAIL_PER_SENDER_PER_HOUR", default=30)
MAIL_POLL_SECONDS = env.float("MAIL_POLL_SECONDS", default=60.0)
MAIL_IMAP_TIMEOUT = env.float("MAIL_IMAP_TIMEOUT", default=20.0)
MAIL_RECEIVER_PORT = env.int("MAIL_RECEIVER_PORT", default=0)
MAIL_RECEIVER_PROTOCOL = env("MAIL_RECEIVER_PROTOCOL", default="smtp")
# Chat intake: how old a signed Slack request may be.
CHAT_SIGNATURE_MAX_AGE_SECONDS = env.int("CHAT_SIGNATURE_MAX_AGE_SECONDS", default=300)

# --- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "servicedesk.api.Pagination",
    "PAGE_SIZE": 25,
    "EXCEPTION_HANDLER": "servicedesk.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "servicedesk.schema.ContractAutoSchema",
    "DEFAULT_THROTTLE_RATES": {"auth_token": env("TOKEN_THROTTLE_RATE", default="10/min")},
    "NUM_PROXIES": PROXY_COUNT,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["servicedesk.contract.ContractJSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Service Desk API",
    "DESCRIPTION": "Tickets, feeds, communities, gamification and communication policies.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files (drf-spectacular-sidecar), not a CDN: the CSP allows
    # scripts and styles from this origin only.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
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

# --- Content-Security-Policy (servicedesk/csp.py)
CSP_REPORT_ONLY = env.bool("CSP_REPORT_ONLY", default=False)
CSP_REPORT_URI = env("CSP_REPORT_URI", default="")

# --- Live updates
LIVE_TICKET_TTL_SECONDS = 60
# How long an open live socket may rely on an access decision (account, role, session, streams)
# before deciding again; sign-out, deactivation and access changes also tell sockets at once.
LIVE_ACCESS_CACHE_SECONDS = env.float("LIVE_ACCESS_CACHE_SECONDS", default=5.0)
# Agents' presence on a ticket (who has it open, who is typing) is forgotten this long after a
# socket's last announcement when it vanished without closing; browsers renew every third of it.
PRESENCE_TTL_SECONDS = env.int("PRESENCE_TTL_SECONDS", default=45)

# --- Content rate limits: writes per person in a fixed window ("30/min", "10/10m", "100/h"; "off"
# lifts one). Enforced by the services on every HTTP request (API, pages, htmx); tasks and
# management commands are never limited. Over the limit: 429 with Retry-After.
CONTENT_RATE_LIMITS = {
    "post": env("RATE_LIMIT_POSTS", default="10/min"),  # feed posts and community questions
    "comment": env("RATE_LIMIT_COMMENTS", default="30/min"),  # ticket, post and answer comments, answers
    "comment.staff": env("RATE_LIMIT_COMMENTS_STAFF", default="120/min"),
    "like": env("RATE_LIMIT_LIKES", default="60/min"),  # likes and unlikes
    "ticket": env("RATE_LIMIT_TICKETS", default="10/10m"),
    "follow": env("RATE_LIMIT_FOLLOWS", default="60/min"),
    "live_ticket": env("RATE_LIMIT_LIVE_TICKETS", default="30/min"),
}
# The most distinct people one post or comment may mention; more answers 400.
MENTIONS_MAX = env.int("MENTIONS_MAX", default=10)
# Repeated notifications from one person about the same thing (or, for mentions, likes and wall
# posts, about anything) to one recipient within this window become one notification and at most
# one e-mail, with a count.
NOTIFICATION_COALESCE_SECONDS = env.int("NOTIFICATION_COALESCE_SECONDS", default=600)

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

# --- Manager dashboard: what one ticket costs (the value of a ticket saved by knowledge), and how
# often the daily rollups are refreshed (the last few days; the last 60 days again nightly).
DASHBOARD_COST_PER_TICKET = env.float("DASHBOARD_COST_PER_TICKET", default=25.0)
DASHBOARD_CURRENCY = env("DASHBOARD_CURRENCY", default="€")
DASHBOARD_ROLLUP_SECONDS = env.float("DASHBOARD_ROLLUP_SECONDS", default=300.0)
CELERY_BEAT_SCHEDULE["dashboard-rollups"] = {
    "task": "gamification.tasks.dashboard_rollups_refresh", "schedule": DASHBOARD_ROLLUP_SECONDS,
}
CELERY_BEAT_SCHEDULE["dashboard-rollups-nightly"] = {
    "task": "gamification.tasks.dashboard_rollups_nightly", "schedule": crontab(hour=2, minute=30),
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
# Requests to addresses admins type in (channels, listening feeds) never reach loopback, private,
# link-local or reserved networks (servicedesk/safe_urls.py) unless listed here: host names or
# IP addresses / CIDR networks, comma separated. Default: none.
OUTBOUND_ALLOWED_HOSTS = env.list("OUTBOUND_ALLOWED_HOSTS", default=[])
OUTBOUND_MAX_REDIRECTS = env.int("OUTBOUND_MAX_REDIRECTS", default=3)
LISTENING_POLL_SECONDS = env.float("LISTENING_POLL_SECONDS", default=300.0)
LISTENING_NEGATIVE_THRESHOLD = env.float("LISTENING_NEGATIVE_THRESHOLD", default=-0.4)
CELERY_BEAT_SCHEDULE.update(
    {
        "outbound-sweep": {"task": "policies.tasks.outbound_sweep", "schedule": POLICIES_SWEEP_SECONDS},
        "listening-poll": {"task": "policies.tasks.listening_poll", "schedule": LISTENING_POLL_SECONDS},
    }
)

# --- Inbound e-mail: every active IMAP mailbox is polled this often.
CELERY_BEAT_SCHEDULE["mail-poll"] = {
    "task": "intake.tasks.mail_poll", "schedule": MAIL_POLL_SECONDS, "options": {"expires": max(1.0, MAIL_POLL_SECONDS)},
}
