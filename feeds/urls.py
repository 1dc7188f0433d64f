from django.urls import path

from . import views

app_name = "feeds"

urlpatterns = [
    path("feed/views/", views.feed_filter_save, name="feed_filter_save"),
    path("feed/views/<int:filter_id>/delete/", views.feed_filter_delete, name="feed_filter_delete"),
    path("account/notifications/", views.preferences, name="preferences"),
    path("account/feed-links/<int:token_id>/revoke/", views.feed_link_revoke, name="feed_link_revoke"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("feed/", views.feed, name="feed"),
    path("feed/items/", views.feed_items, name="feed_items"),
    path("feed/popular/", views.popular, name="popular"),
    path("people/<str:username>/", views.person, name="person"),
    path("services/<int:pk>/", views.service, name="service"),
    path("tags/<str:tag>/", views.tag, name="tag"),
    path("walls/<str:wall_type>/<str:key>/items/", views.wall_items, name="wall_items"),
    path("follow/", views.follow, name="follow"),
    path("unfollow/", views.unfollow, name="unfollow"),
    path("mute/", views.mute, name="mute"),
    path("posts/<int:pk>/", views.post_detail, name="post"),
    path("posts/<int:pk>/comment/", views.post_comment, name="post_comment"),
    path("posts/<int:pk>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:pk>/delete/", views.post_delete, name="post_delete"),
    path("posts/<int:pk>/like/", views.post_like, name="post_like"),
    path("posts/<int:pk>/unlike/", views.post_unlike, name="post_unlike"),
]
