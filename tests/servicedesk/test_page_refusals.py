"""One place answers a refusal that leaves a page view: 404 hides, 403 explains with the app's way back."""
import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore
from django.urls import resolve

from servicedesk.errors import ApplicationError, Forbidden, NotVisible
from servicedesk.pages import PageRefusalMiddleware, refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_request(rf, alice):
    def make(path):
        request = rf.get(path)
        request.user, request.session = alice, SessionStore()
        request._messages = FallbackStorage(request)
        request.resolver_match = resolve(path)
        return request

    return make


def test_a_forbidden_action_shows_the_403_page_with_the_apps_way_back(page_request):
    middleware = PageRefusalMiddleware(lambda request: None)

    answer = middleware.process_exception(page_request("/communities/"), Forbidden("Only members vote."))
    assert answer.status_code == 403
    page = answer.content.decode()
    assert "Only members vote." in page and 'href="/communities/"' in page and "Back to communities" in page

    on_tickets = middleware.process_exception(page_request("/portal/"), Forbidden()).content.decode()
    assert "Go to the portal" in on_tickets


def test_what_the_caller_may_not_see_is_not_found_and_other_errors_are_left_to_the_view(page_request):
    middleware = PageRefusalMiddleware(lambda request: None)
    request = page_request("/communities/")

    assert middleware.process_exception(request, NotVisible()).status_code == 404
    assert middleware.process_exception(request, ApplicationError("Gone.", status=404)).status_code == 404
    assert middleware.process_exception(request, ApplicationError("Say more.")) is None
    assert middleware.process_exception(request, ValueError("a bug")) is None
    assert refused(Forbidden()) and refused(NotVisible()) and not refused(ApplicationError("Say more."))
