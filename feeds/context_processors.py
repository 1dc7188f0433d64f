from .selectors import notifications_unread_count


def unread_notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    marks = getattr(request, "live_marks", None)
    if marks is None:
        return {"unread_notifications": notifications_unread_count(user)}
    # Counted with the marks, at the start of the request: the badge and the marks agree.
    last_activity, last_notification, unread = marks
    return {"unread_notifications": unread, "live_last_activity_id": last_activity, "live_last_notification_id": last_notification}
