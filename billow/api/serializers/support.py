"""Input and output serializers of the support endpoints (parse and render only)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from rest_framework import serializers

from billow.support.states import Priority, TicketStatus, client_label


class DepartmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AttachmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()


class MessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    author_kind = serializers.CharField()
    author_name = serializers.CharField()
    body = serializers.CharField()
    source = serializers.CharField()
    created_at = serializers.DateTimeField()
    attachments = AttachmentOut(many=True, source="attachments.all")


class TicketOut(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField()
    department_id = serializers.IntegerField()
    department = serializers.CharField(source="department.name")
    service_id = serializers.IntegerField(allow_null=True)
    priority = serializers.ChoiceField(choices=Priority.choices)
    status = serializers.ChoiceField(choices=TicketStatus.choices)
    status_label = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    rating = serializers.IntegerField(allow_null=True)
    merged_into_id = serializers.IntegerField(allow_null=True)

    def get_status_label(self, obj: Any) -> str:
        return client_label(obj.status)


class TicketDetailOut(TicketOut):
    messages = MessageOut(many=True, source="public_messages")


class TicketFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=TicketStatus.choices, required=False)


class AttachmentIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    content_base64 = serializers.CharField()

    def validate_content_base64(self, value: str) -> bytes:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("not base64") from None


class MessageIn(serializers.Serializer):
    body = serializers.CharField(max_length=50_000)
    attachments = AttachmentIn(many=True, required=False, default=list)


class TicketIn(MessageIn):
    department_id = serializers.IntegerField()
    subject = serializers.CharField(max_length=300)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    service_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class RateIn(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
