from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .presenters import notification_payload


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField()
    url = serializers.CharField()
    read = serializers.BooleanField()
    created_at = serializers.DateTimeField()

    def to_representation(self, instance):
        return notification_payload(instance)


class NotificationListApi(ListAPIView):
    serializer_class = NotificationOutput

    def get_queryset(self):
        return selectors.notifications_for(self.request.user)


class NotificationsReadInput(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=1000)
    all = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError("Give either 'ids' or 'all': true.")
        return attrs


class NotificationsReadApi(APIView):
    @extend_schema(request=NotificationsReadInput, responses=inline_serializer("NotificationsRead", {"updated": serializers.IntegerField()}))
    def post(self, request):
        data = NotificationsReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.notifications_mark_read(
            actor=request.user, ids=data.validated_data.get("ids"), all_=data.validated_data["all"]
        )
        return Response({"updated": updated}, status=status.HTTP_200_OK)


class LiveTicketApi(APIView):
    @extend_schema(request=None, responses=inline_serializer("LiveTicket", {"ticket": serializers.CharField()}))
    def post(self, request):
        return Response({"ticket": services.live_ticket_issue(user=request.user)})
