"""Routes whose URLs cannot be built from their shape, for the `{% url %}` tag's tests."""
from django.http import HttpResponse
from django.urls import path, re_path


def view(request, **kwargs):
    return HttpResponse()


urlpatterns = [
    re_path(r"^year/(?P<year>[0-9]{4})/$", view, name="year"),
    path("item/<int:pk>/part/<int:part>/", view, name="item-part"),
    path("person/<str:name>/", view, name="person"),
]
