"""django-activity-stream at its defaults (FETCH_RELATIONS=True)."""
from bench.peers.common_settings import *  # noqa: F401,F403

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.messages",
    "actstream",
    "bench.peers.actstream_site.peerapp",
]
ROOT_URLCONF = "bench.peers.actstream_site.urls"
