from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import api as accounts_api
from accounts import views as accounts_views
from feeds import api as feeds_api

from . import health

api_v1 = [
    path("auth/token/", accounts_api.TokenObtainApi.as_view(), name="auth-token"),
    path("me/", accounts_api.MeApi.as_view(), name="me"),
    path("me/logins/", accounts_api.MyLoginsApi.as_view(), name="me-logins"),
    path("users/<str:username>/", accounts_api.UserDetailApi.as_view(), name="user-detail"),
    path("notifications/", feeds_api.NotificationListApi.as_view(), name="notifications"),
    path("notifications/read/", feeds_api.NotificationsReadApi.as_view(), name="notifications-read"),
    path("live/ticket/", feeds_api.LiveTicketApi.as_view(), name="live-ticket"),
]

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("styleguide/", accounts_views.styleguide, name="styleguide"),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # The admin signs in through the product's own page (lockout, history).
    path("admin/login/", accounts_views.login_view),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("feeds.urls")),
]

handler404 = "servicedesk.errors_views.not_found"
handler500 = "servicedesk.errors_views.server_error"
