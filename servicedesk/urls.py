from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from accounts import api as accounts_api
from accounts import views as accounts_views
from communities import api as communities_api
from feeds import api as feeds_api
from feeds import views as feeds_views
from feeds.syndication import WallAtom, WallRss
from policies.api_urls import urlpatterns as policies_api
from tickets import api as tickets_api

from . import health
from .schema_view import CachedSpectacularAPIView

api_v1 = [
    path("auth/token/", accounts_api.TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/rotate/", accounts_api.TokenRotateApi.as_view(), name="auth-token-rotate"),
    path("auth/token/revoke/", accounts_api.TokenRevokeApi.as_view(), name="auth-token-revoke"),
    path("me/", accounts_api.MeApi.as_view(), name="me"),
    path("me/avatar/", accounts_api.MyAvatarApi.as_view(), name="me-avatar"),
    path("me/logins/", accounts_api.MyLoginsApi.as_view(), name="me-logins"),
    path("me/notification-preferences/", feeds_api.NotificationPreferencesApi.as_view(), name="notification-preferences"),
    path("users/<str:username>/", accounts_api.UserDetailApi.as_view(), name="user-detail"),
    path("notifications/", feeds_api.NotificationListApi.as_view(), name="notifications"),
    path("notifications/read/", feeds_api.NotificationsReadApi.as_view(), name="notifications-read"),
    path("live/ticket/", feeds_api.LiveTicketApi.as_view(), name="live-ticket"),
    path("feed/", feeds_api.FeedApi.as_view(), name="feed"),
    path("feed/filters/", feeds_api.FeedFiltersApi.as_view(), name="feed-filters"),
    path("feed/filters/<int:filter_id>/", feeds_api.FeedFilterDeleteApi.as_view(), name="feed-filter-delete"),
    path("follows/", feeds_api.FollowListApi.as_view(), name="follows"),
    path("follows/<int:follow_id>/", feeds_api.FollowDeleteApi.as_view(), name="follow-delete"),
    path("mutes/", feeds_api.MuteApi.as_view(), name="mutes"),
    path("feed-tokens/", feeds_api.FeedTokenApi.as_view(), name="feed-tokens"),
    path("feed-tokens/<int:token_id>/", feeds_api.FeedTokenRevokeApi.as_view(), name="feed-token-revoke"),
    path("walls/<str:wall_type>/<str:key>/", feeds_api.WallApi.as_view(), name="wall"),
    path("posts/", feeds_api.PostCreateApi.as_view(), name="posts"),
    path("mentions/", feeds_api.MentionSuggestionsApi.as_view(), name="mention-suggestions"),
    path("posts/<int:post_id>/", feeds_api.PostDetailApi.as_view(), name="post-detail"),
    path("posts/<int:post_id>/like/", feeds_api.PostLikeApi.as_view(), name="post-like"),
    path("posts/<int:post_id>/comments/", feeds_api.PostCommentsApi.as_view(), name="post-comments"),
    path("tickets/", tickets_api.TicketListApi.as_view(), name="tickets"),
    path("tickets/suggestions/", tickets_api.SuggestionsApi.as_view(), name="ticket-suggestions"),
    path("tickets/<int:ticket_id>/", tickets_api.TicketDetailApi.as_view(), name="ticket-detail"),
    path("tickets/<int:ticket_id>/comments/", tickets_api.CommentsApi.as_view(), name="ticket-comments"),
    path("tickets/<int:ticket_id>/attachments/", tickets_api.AttachmentUploadApi.as_view(), name="ticket-attachments"),
    path("tickets/<int:ticket_id>/follow/", tickets_api.FollowApi.as_view(), name="ticket-follow"),
    path("tickets/<int:ticket_id>/me-too/", tickets_api.MeTooApi.as_view(), name="ticket-me-too"),
    path("tickets/<int:ticket_id>/rating/", tickets_api.RatingApi.as_view(), name="ticket-rating"),
    path("tickets/<int:ticket_id>/reopen/", tickets_api.ReopenApi.as_view(), name="ticket-reopen"),
    path("tickets/<int:ticket_id>/incidents/", tickets_api.ProblemIncidentsApi.as_view(), name="problem-incidents"),
    path("tickets/<int:ticket_id>/incidents/<int:incident_id>/", tickets_api.ProblemUnlinkApi.as_view(), name="problem-incident"),
    path("tickets/<int:ticket_id>/merge/", tickets_api.MergeApi.as_view(), name="ticket-merge"),
    path("tickets/<int:ticket_id>/resolve/", tickets_api.ProblemResolveApi.as_view(), name="problem-resolve"),
    path("attachments/<str:token>/", tickets_api.AttachmentDownloadApi.as_view(), name="attachment"),
    path("services/", tickets_api.ServiceListApi.as_view(), name="services"),
    path("communities/", communities_api.CommunityListApi.as_view(), name="communities"),
    path("communities/<slug:slug>/join/", communities_api.JoinApi.as_view(), name="community-join"),
    path("communities/<slug:slug>/requests/<int:request_id>/approve/", communities_api.JoinRequestDecisionApi.as_view(),
         name="community-request-approve"),
    path("communities/<slug:slug>/requests/<int:request_id>/reject/", communities_api.JoinRequestRejectApi.as_view(),
         name="community-request-reject"),
    path("communities/<slug:slug>/questions/", communities_api.QuestionListApi.as_view(), name="community-questions"),
    path("questions/<int:question_id>/answers/", communities_api.AnswerCreateApi.as_view(), name="question-answers"),
    path("answers/<int:answer_id>/vote/", communities_api.VoteApi.as_view(), name="answer-vote"),
    path("answers/<int:answer_id>/accept/", communities_api.AcceptApi.as_view(), name="answer-accept"),
    path("answers/<int:answer_id>/promote/", communities_api.PromoteApi.as_view(), name="answer-promote"),
    path("questions/<int:question_id>/ticket/", communities_api.QuestionToTicketApi.as_view(), name="question-ticket"),
    path("communities/<slug:slug>/", communities_api.CommunityDetailApi.as_view(), name="community-detail"),
    path("communities/<slug:slug>/leave/", communities_api.LeaveApi.as_view(), name="community-leave"),
    path("communities/<slug:slug>/members/", communities_api.MembersApi.as_view(), name="community-members"),
    path("communities/<slug:slug>/removals/", communities_api.RemovalsApi.as_view(), name="community-removals"),
    path("communities/<slug:slug>/members/<str:username>/", communities_api.MemberDetailApi.as_view(), name="community-member"),
    path("communities/<slug:slug>/invitations/", communities_api.InvitationCreateApi.as_view(), name="community-invitations"),
    path("communities/<slug:slug>/services/", communities_api.CommunityServicesApi.as_view(), name="community-services"),
    path("communities/<slug:slug>/bridges/", communities_api.BridgesApi.as_view(), name="community-bridges"),
    path("communities/<slug:slug>/bridges/<int:bridge_id>/accept/", communities_api.BridgeAcceptApi.as_view(),
         name="community-bridge-accept"),
    path("communities/<slug:slug>/ideas/", communities_api.IdeaListApi.as_view(), name="community-ideas"),
    path("communities/<slug:slug>/ideas/<int:idea_id>/", communities_api.IdeaDetailApi.as_view(), name="community-idea"),
    path("communities/<slug:slug>/ideas/<int:idea_id>/vote/", communities_api.IdeaVoteApi.as_view(), name="community-idea-vote"),
    path("communities/<slug:slug>/ideas/<int:idea_id>/remove/", communities_api.IdeaRemoveApi.as_view(), name="community-idea-remove"),
    path("communities/<slug:slug>/polls/", communities_api.PollListApi.as_view(), name="community-polls"),
    path("communities/<slug:slug>/polls/<int:poll_id>/", communities_api.PollDetailApi.as_view(), name="community-poll"),
    path("communities/<slug:slug>/polls/<int:poll_id>/vote/", communities_api.PollVoteApi.as_view(), name="community-poll-vote"),
    path("invitations/", communities_api.MyInvitationsApi.as_view(), name="invitations"),
    path("invitations/<int:invitation_id>/accept/", communities_api.InvitationDecisionApi.as_view(), name="invitation-accept"),
    path("invitations/<int:invitation_id>/decline/", communities_api.InvitationDeclineApi.as_view(), name="invitation-decline"),
    path("questions/<int:question_id>/", communities_api.QuestionDetailApi.as_view(), name="question-detail"),
    path("questions/<int:question_id>/remove/", communities_api.QuestionRemoveApi.as_view(), name="question-remove"),
    path("answers/<int:answer_id>/comments/", communities_api.AnswerCommentsApi.as_view(), name="answer-comments"),
    path("answers/<int:answer_id>/remove/", communities_api.AnswerRemoveApi.as_view(), name="answer-remove"),
    path("articles/<int:article_id>/remove/", communities_api.ArticleRemoveApi.as_view(), name="article-remove"),
    path("search/community/", communities_api.CommunitySearchApi.as_view(), name="community-search"),
    path("articles/", communities_api.ArticleListApi.as_view(), name="articles"),
    path("articles/<int:article_id>/", communities_api.ArticleDetailApi.as_view(), name="article-detail"),
    path("articles/<int:article_id>/revisions/", communities_api.ArticleRevisionsApi.as_view(), name="article-revisions"),
    path("articles/<int:article_id>/diff/", communities_api.ArticleDiffApi.as_view(), name="article-diff"),
    path("articles/<int:article_id>/helpful/", communities_api.ArticleHelpfulApi.as_view(), name="article-helpful"),
    path("answers/<int:answer_id>/unaccept/", communities_api.UnacceptApi.as_view(), name="answer-unaccept"),
    path("", include("gamification.api_urls")),
    *policies_api,
]

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("rss/<str:token>/<str:wall_type>/<str:key>/", WallRss(), name="wall-rss"),
    path("atom/<str:token>/<str:wall_type>/<str:key>/", WallAtom(), name="wall-atom"),
    path("styleguide/", accounts_views.styleguide, name="styleguide"),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", CachedSpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # The admin signs in through the product's own page (lockout, history).
    path("admin/login/", accounts_views.login_view),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("feeds.urls")),
    path("", include("tickets.urls")),
    path("", include("intake.urls")),
    path("", include("communities.urls")),
    path("", include("gamification.urls")),
    path("", include("policies.urls")),
]

handler404 = "servicedesk.errors_views.not_found"
handler500 = "servicedesk.errors_views.server_error"
