"""Settings for the test suite: real PostgreSQL and Redis on 127.0.0.1 unless told otherwise."""
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CHANNEL_PREFIX", "sdtest")

# Under pytest-xdist each worker runs its own test database (pytest-django adds the suffix) and
# needs its own Redis database, channel prefix and media folder as well: a test clears the cache
# (a FLUSHDB), and ticket numbers repeat across the workers' databases, so shared groups would
# cross-talk.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw"):
    _index = int(_worker[2:])
    _redis = urlsplit(os.environ["REDIS_URL"])
    _base_db = int((_redis.path or "/0").lstrip("/") or 0)
    os.environ["REDIS_URL"] = urlunsplit(_redis._replace(path=f"/{(_base_db - _index) % 16}"))
    os.environ["CHANNEL_PREFIX"] = f"{os.environ['CHANNEL_PREFIX']}{_worker}"
    os.environ.setdefault("MEDIA_ROOT", str(Path(__file__).resolve().parents[2] / "var" / f"test-media-{_worker}"))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("EMAIL_URL", "memorymail://")
# Small pools: the test process and every uvicorn/Celery process an integration test starts get
# their own, and all of them (with other runs on the machine) share PostgreSQL's max_connections.
os.environ.setdefault("DB_POOL_MIN", "1")
os.environ.setdefault("DB_POOL_MAX", "4")
os.environ.setdefault("DB_POOL_TIMEOUT", "10")

from .base import *  # noqa: E402,F401,F403
from .base import REST_FRAMEWORK, env  # noqa: E402

# Hashing with Argon2 on every test login would dominate the run time; production keeps Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"auth_token": env("TOKEN_THROTTLE_RATE", default="10/min")},
}
