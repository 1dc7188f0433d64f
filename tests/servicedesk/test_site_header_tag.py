"""`{% site_header %}` writes what base.html's header wrote, for every kind of person and page,
and each person's own values, however often the same kind of page was rendered before."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.middleware.csrf import get_token
from django.template import RequestContext, engines
from django.test import RequestFactory
from django.urls import resolve, reverse

pytestmark = pytest.mark.django_db

# The header as base.html wrote it before the tag.
REFERENCE = """  <header class="site-header">
    <div class="container header-inner">
      <a class="brand" href="{% url 'home' %}">Service Desk</a>
      {% if request.user.is_authenticated %}
      {# Under ~700 px the search, the person and the bar fold behind this button (static/js/ui.js shows it). #}
      <button type="button" class="btn btn-secondary btn-small nav-toggle" id="nav-toggle" aria-expanded="false" aria-controls="header-fold" hidden>
        Menu<span class="nav-toggle-unread" id="nav-toggle-unread"></span><span class="visually-hidden" id="nav-toggle-unread-label"></span>
      </button>
      <div class="header-fold" id="header-fold">
      {% endif %}

      {% if request.user.is_authenticated %}
      <form class="header-search field field-check grow" method="get" action="{% url 'tickets:search' %}" role="search" aria-label="Tickets">
        <label for="header-search-q" class="visually-hidden">Search tickets</label>
        <input type="search" id="header-search-q" name="q" class="grow" placeholder="Search tickets" value="{% if request.resolver_match.view_name == 'tickets:search' %}{{ request.GET.q }}{% endif %}" autocomplete="off">
        <button type="submit" class="btn btn-secondary btn-small">Search</button>
      </form>
      {% endif %}

      {% if request.user.is_authenticated %}
      <div class="header-user">
        <span class="cluster">
          {% firstof request.user.display_name request.user.get_username as shown_name %}<span class="avatar avatar-sm" aria-hidden="true">{% firstof request.user.initials shown_name|slice:":1" %}</span>
          <span class="user-name">{{ shown_name }}</span>
          <span class="badge badge-neutral">{% firstof request.user.get_role_display request.user.role %}</span>
        </span>
        <span id="live-indicator" data-state="connecting" role="status" aria-label="Live updates: connecting…" title="Live updates: connecting…"><span class="dot" aria-hidden="true"></span><span class="live-label">connecting…</span></span>
      </div>
      {% endif %}

      {% with view_name=request.resolver_match.view_name %}
      {# Last in the header and in reading order, on a row of its own: the whole width is the bar's. #}
      <nav class="main-nav" aria-label="Main">
        <ul>
          {% if request.user.is_authenticated %}
            {% with role=request.user.role unread=unread_notifications|default:0 %}
            <li><a href="{% url 'home' %}"{% if view_name == 'home' %} aria-current="page"{% endif %}>Home</a></li>
            <li><a href="{% url 'feeds:feed' %}"{% if view_name == 'feeds:feed' %} aria-current="page"{% endif %}>Feed</a></li>
            <li><a href="{% url 'tickets:portal' %}"{% if view_name == 'tickets:portal' %} aria-current="page"{% endif %}>Portal</a></li>
            <li><a href="{% url 'tickets:mine' %}"{% if view_name == 'tickets:mine' %} aria-current="page"{% endif %}>My tickets</a></li>
            <li><a href="{% url 'communities:list' %}"{% if view_name == 'communities:list' %} aria-current="page"{% endif %}>Communities</a></li>
            <li><a href="{% url 'communities:articles' %}"{% if view_name == 'communities:articles' %} aria-current="page"{% endif %}>Knowledge</a></li>
            {% if request.user.is_agent %}
            <li><a href="{% url 'tickets:queue' %}"{% if view_name == 'tickets:queue' %} aria-current="page"{% endif %}>Queue</a></li>
            {% endif %}
            <li><a href="{% url 'gamification:leaderboard' %}"{% if view_name == 'gamification:leaderboard' %} aria-current="page"{% endif %}>Leaderboard</a></li>
            <li>
              <a href="{% url 'feeds:notifications' %}"{% if view_name == 'feeds:notifications' %} aria-current="page"{% endif %}>
                Notifications
                <span id="unread-badge" role="img" data-count="{{ unread }}" aria-label="{{ unread }} unread notification{{ unread|pluralize }}">{{ unread }}</span>
              </a>
            </li>
            {% if request.user.is_agent or request.user.is_superuser %}
            {# Staff tools, used less than daily, share one menu so that the bar keeps to one row. #}
            <li>
              <details class="menu">
                <summary{% if request.resolver_match.app_name == 'policies' or request.resolver_match.app_name == 'intake' or view_name == 'gamification:dashboard' or view_name == 'api-docs' %} aria-current="true"{% endif %}>Manage</summary>
                <div class="menu-panel">
                  <ul>
                    {% if request.user.is_manager %}
                    <li><a href="{% url 'gamification:dashboard' %}"{% if view_name == 'gamification:dashboard' %} aria-current="page"{% endif %}>Dashboard</a></li>
                    {% endif %}
                    {% if request.user.is_agent %}
                    <li><a href="{% url 'policies:home' %}"{% if request.resolver_match.app_name == 'policies' %} aria-current="page"{% endif %}>{% if role == 'agent' %}Listening{% else %}Communications{% endif %}</a></li>
                    {% endif %}
                    {% if role == 'admin' %}
                    <li><a href="{% url 'intake:channels' %}"{% if request.resolver_match.app_name == 'intake' %} aria-current="page"{% endif %}>Inbound channels</a></li>
                    {% endif %}
                    <li><a href="{% url 'api-docs' %}"{% if view_name == 'api-docs' %} aria-current="page"{% endif %}>API</a></li>
                    {% if role == 'admin' or request.user.is_superuser %}
                    <li><a href="{% url 'admin:index' %}">Administration</a></li>
                    {% endif %}
                  </ul>
                </div>
              </details>
            </li>
            {% endif %}
            <li>
              <details class="menu">
                <summary{% if view_name == 'accounts:signins' or view_name == 'feeds:preferences' or view_name == 'accounts:profile' %} aria-current="true"{% endif %}>Account</summary>
                <div class="menu-panel">
                  <p class="menu-meta">Signed in as <strong>{% firstof request.user.display_name request.user.get_username %}</strong></p>
                  <ul>
                    <li><a href="{% url 'accounts:profile' %}"{% if view_name == 'accounts:profile' %} aria-current="page"{% endif %}>Your profile</a></li>
                    <li><a href="{% url 'accounts:signins' %}"{% if view_name == 'accounts:signins' %} aria-current="page"{% endif %}>Sign-in history</a></li>
                    <li><a href="{% url 'feeds:preferences' %}"{% if view_name == 'feeds:preferences' %} aria-current="page"{% endif %}>Notification settings</a></li>
                    <li>
                      <form method="post" action="{% url 'accounts:logout' %}">
                        {% csrf_token %}
                        <button type="submit">Sign out</button>
                      </form>
                    </li>
                  </ul>
                </div>
              </details>
            </li>
            {% endwith %}
          {% else %}
            <li><a href="{% url 'accounts:login' %}"{% if view_name == 'accounts:login' %} aria-current="page"{% endif %}>Sign in</a></li>
          {% endif %}
        </ul>
      </nav>
      {% endwith %}
      {% if request.user.is_authenticated %}</div>{% endif %}
    </div>
  </header>
"""
TAG = "{% site_header %}"


def squeeze(html: str) -> str:
    """Whitespace between tags left out, and the CSRF token (masked anew on every render) named."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="token"', html)
    return re.sub(r">\s+<", "><", re.sub(r"\n\s*\n", "\n", html.strip()))


def render(source: str, user, path: str, unread=None) -> str:
    request = RequestFactory().get(path)
    request.user = user
    request.resolver_match = resolve(request.path_info)
    get_token(request)
    if unread is not None:  # the count the request started with, as the live middleware leaves it
        request.live_marks = (0, 0, unread)
    template = engines["django"].from_string(source).template
    return template.render(RequestContext(request))


def both(user, path, unread=None) -> tuple[str, str]:
    return squeeze(render(TAG, user, path, unread)), squeeze(render(REFERENCE, user, path, unread))


@pytest.mark.parametrize("role, superuser", [("end_user", False), ("end_user", True), ("agent", False),
                                             ("manager", False), ("admin", False)])
@pytest.mark.parametrize("view", ["home", "tickets:queue", "tickets:search", "gamification:dashboard", "policies:home",
                                  "intake:channels", "feeds:notifications", "accounts:profile", "api-docs",
                                  "feeds:preferences"])
def test_the_tag_writes_what_the_template_wrote(make_user, role, superuser, view):
    path = reverse(view) + "?q=vpn+%26+%3Cprinter%3E"
    user = make_user(f"{role}{int(superuser)}", role=role, display_name="Ann <b>O'Neil</b> & co")
    user.is_superuser = superuser
    for unread in (None, 0, 1, 7):
        tag, reference = both(user, path, unread)
        assert tag == reference, (role, view, unread)


def test_signed_out_pages_get_the_sign_in_link():
    for path in ("/", reverse("accounts:login")):
        tag, reference = both(AnonymousUser(), path)
        assert tag == reference
        assert "Sign in" in tag and "Sign out" not in tag


def test_each_person_gets_their_own_name_search_and_token_on_a_page_kept_for_their_kind(make_user):
    first = make_user("first", role="agent", display_name="")
    second = make_user("second", role="agent", display_name="Sam <i>Second</i>")
    one = render(TAG, first, reverse("tickets:search") + "?q=%3Cscript%3Ealert(1)%3C/script%3E", unread=2)
    two = render(TAG, second, reverse("tickets:search") + "?q=printer", unread=1)
    assert '<span class="user-name">first</span>' in one and ">F</span>" in one
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in one and "<script>" not in one
    assert "Sam &lt;i&gt;Second&lt;/i&gt;" in two and "first" not in two
    assert 'value="printer"' in two, two
    assert 'aria-label="1 unread notification"' in two, two
    tokens = [re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1) for page in (one, two)]
    assert tokens[0] != tokens[1]
