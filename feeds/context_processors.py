from .selectors import notifications_unread_count


def unread_notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context = {"unread_notifications": notifications_unread_count(user)}
    marks = getattr(request, "live_marks", None)
    if marks is not None:
        context["live_last_activity_id"], context["live_last_notification_id"] = marks
    return context
