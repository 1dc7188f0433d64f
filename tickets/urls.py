from django.urls import path

from . import views

app_name = "tickets"

urlpatterns = [
    path("portal/", views.portal, name="portal"),
    path("portal/suggestions/", views.suggestions, name="suggestions"),
    path("portal/deflect/", views.deflect, name="deflect"),
    path("tickets/mine/", views.mine, name="mine"),
    path("tickets/followed/", views.followed, name="followed"),
    path("tickets/<int:pk>/", views.detail, name="detail"),
    path("tickets/<int:pk>/conversation/", views.conversation, name="conversation"),
    path("tickets/<int:pk>/comment/", views.comment, name="comment"),
    path("tickets/<int:pk>/follow/", views.follow, name="follow"),
    path("tickets/<int:pk>/unfollow/", views.unfollow, name="unfollow"),
    path("tickets/<int:pk>/me-too/", views.me_too, name="me_too"),
    path("tickets/<int:pk>/rate/", views.rate, name="rate"),
    path("tickets/<int:pk>/reopen/", views.reopen, name="reopen"),
    path("tickets/<int:pk>/update/", views.update, name="update"),
    path("tickets/<int:pk>/resolve-problem/", views.resolve_problem, name="resolve_problem"),
    path("tickets/<int:pk>/problem/link/", views.problem_link, name="problem_link"),
    path("tickets/<int:pk>/problem/unlink/", views.problem_unlink, name="problem_unlink"),
    path("tickets/<int:pk>/problem/new/", views.problem_create, name="problem_create"),
    path("tickets/<int:pk>/merge/", views.merge, name="merge"),
    path("tickets/<int:pk>/about-requester/", views.about_requester, name="about_requester"),
    path("tickets/<int:pk>/find/", views.find, name="find"),
    path("tickets/<int:pk>/canned/<int:response_id>/", views.canned_text, name="canned_text"),
    path("tickets/canned/", views.canned_responses, name="canned"),
    path("tickets/canned/<int:response_id>/delete/", views.canned_delete, name="canned_delete"),
    path("queue/", views.queue, name="queue"),
    path("queue/table/", views.queue_table, name="queue_table"),
    path("queue/bulk/", views.bulk, name="bulk"),
    path("queue/views/", views.saved_view_save, name="saved_view_save"),
    path("queue/views/<int:view_id>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("search/", views.search, name="search"),
]
