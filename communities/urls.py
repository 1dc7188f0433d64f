from django.urls import path

from . import views

app_name = "communities"

urlpatterns = [
    path("communities/", views.community_list, name="list"),
    path("communities/ask/", views.ask_routed, name="ask_routed"),
    path("communities/<slug:slug>/", views.community_detail, name="detail"),
    path("communities/<slug:slug>/post/", views.community_post, name="post"),
    path("communities/<slug:slug>/join/", views.community_join, name="join"),
    path("communities/<slug:slug>/leave/", views.community_leave, name="leave"),
    path("communities/<slug:slug>/requests/<int:request_id>/<str:decision>/", views.request_decide, name="request_decide"),
    path("communities/<slug:slug>/invite/", views.invite, name="invite"),
    path("communities/<slug:slug>/members/<str:username>/remove/", views.member_remove, name="member_remove"),
    path("communities/<slug:slug>/bridges/", views.bridge_propose, name="bridge_propose"),
    path("communities/<slug:slug>/bridges/<int:bridge_id>/accept/", views.bridge_accept, name="bridge_accept"),
    path("communities/<slug:slug>/services/", views.services_set, name="services"),
    path("communities/<slug:slug>/ask/", views.ask, name="ask"),
    path("communities/<slug:slug>/ideas/", views.idea_create, name="idea_create"),
    path("communities/<slug:slug>/ideas/<int:pk>/", views.idea_detail, name="idea"),
    path("communities/<slug:slug>/ideas/<int:pk>/vote/", views.idea_vote, name="idea_vote"),
    path("communities/<slug:slug>/ideas/<int:pk>/remove/", views.idea_remove, name="idea_remove"),
    path("communities/<slug:slug>/polls/", views.poll_create, name="poll_create"),
    path("communities/<slug:slug>/polls/<int:pk>/vote/", views.poll_vote, name="poll_vote"),
    path("invitations/<int:invitation_id>/<str:decision>/", views.invitation_decide, name="invitation_decide"),
    path("questions/<int:pk>/", views.question_detail, name="question"),
    path("questions/<int:pk>/answers/", views.question_answers, name="question_answers"),
    path("questions/<int:pk>/remove/", views.question_remove, name="question_remove"),
    path("questions/<int:pk>/ticket/", views.question_ticket, name="question_ticket"),
    path("answers/<int:pk>/vote/", views.answer_vote, name="answer_vote"),
    path("answers/<int:pk>/accept/", views.answer_accept, name="answer_accept"),
    path("answers/<int:pk>/promote/", views.answer_promote, name="answer_promote"),
    path("answers/<int:pk>/comment/", views.answer_comment, name="answer_comment"),
    path("answers/<int:pk>/remove/", views.answer_remove, name="answer_remove"),
    path("articles/", views.article_list, name="articles"),
    path("articles/new/", views.article_create, name="article_create"),
    path("articles/<int:pk>/", views.article_detail, name="article"),
    path("articles/<int:pk>/edit/", views.article_edit, name="article_edit"),
    path("articles/<int:pk>/restore/", views.article_restore, name="article_restore"),
    path("articles/<int:pk>/helpful/", views.article_helpful, name="article_helpful"),
    path("articles/<int:pk>/remove/", views.article_remove, name="article_remove"),
]
