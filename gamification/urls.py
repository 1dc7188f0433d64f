from django.urls import path

from . import views

app_name = "gamification"

urlpatterns = [
    path("leaderboard/", views.leaderboard_page, name="leaderboard"),
    path("leaderboard/board/", views.leaderboard_board, name="leaderboard_board"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("manage/", views.manager_dashboard, name="dashboard"),
    path("manage/dashboard.csv", views.manager_dashboard_csv, name="dashboard_csv"),
    path("manage/figures/<slug:key>/", views.manager_dashboard_drill, name="dashboard_drill"),
    path("manage/maturity-plan/", views.maturity_plan, name="maturity_plan"),
    path("manage/rules/", views.rules_page, name="rules"),
    path("tickets/<int:pk>/desk-visit/", views.desk_visit, name="desk_visit"),
    path("tickets/<int:pk>/bounty/", views.bounty, name="bounty"),
]
