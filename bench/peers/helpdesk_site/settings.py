"""django-helpdesk 2.6.1 at library defaults; HELPDESK_BEST=1 restricts owner lists to staff."""
import os

from bench.peers.common_settings import *  # noqa: F401,F403

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.messages",
    "django.contrib.humanize",
    "django.contrib.staticfiles",
    "rest_framework",
    "account",
    "pinax.invitations",
    "pinax.teams",
    "reversion",
    "helpdesk",
]
ROOT_URLCONF = "bench.peers.helpdesk_site.urls"
LOGIN_URL = "/helpdesk/login/"
HELPDESK_STAFF_ONLY_TICKET_OWNERS = os.environ.get("HELPDESK_BEST") == "1"
