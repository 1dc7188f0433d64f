from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/login/", views.login_view, name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("account/profile/", views.profile_edit, name="profile"),
    path("media/avatars/<str:name>", views.avatar_file, name="avatar"),
    path("account/sign-ins/", views.signin_history, name="signins"),
    path("account/sign-ins/<int:login_id>/report/", views.signin_report, name="report_signin"),
]
