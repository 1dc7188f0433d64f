import os
import uuid

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.conftest import require_service
from tests.support import processes


@pytest.fixture
def stack_env(transactional_db, tmp_path):
    """Environment for server and worker processes: the test database, real Redis, no eager tasks."""
    require_service("Redis", lambda: redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping())
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "servicedesk.settings.test",
            "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "CHANNEL_PREFIX": settings.CHANNEL_PREFIX,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_QUEUE": f"test-{uuid.uuid4().hex[:10]}",
            "EMAIL_URL": "filemail://",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(tmp_path / "mail"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "OUTBOX_SWEEP_SECONDS": "1",
            "OUTBOX_SWEEP_GRACE_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@pytest.fixture
def log_dir(tmp_path):
    return tmp_path / "logs"


@pytest.fixture
def asgi_server(stack_env, log_dir):
    proc = processes.start_asgi_server(stack_env, log_dir)
    yield proc
    proc.stop()


@pytest.fixture
def start_worker(stack_env, log_dir):
    started = []

    def start(*, beat: bool = False, env_overrides: dict | None = None, name: str = "worker"):
        proc = processes.start_celery_worker({**stack_env, **(env_overrides or {})}, log_dir, beat=beat, name=name)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()
