"""S3 storage of a service: buckets, access keys and client settings (issue 15)."""

from __future__ import annotations

from rest_framework import serializers


class S3BucketOut(serializers.Serializer):
    name = serializers.CharField()
    size_bytes = serializers.IntegerField()
    objects = serializers.IntegerField()
    public = serializers.BooleanField()
    website = serializers.BooleanField()
    index_document = serializers.CharField(allow_blank=True)
    error_document = serializers.CharField(allow_blank=True)
    website_url = serializers.CharField()


class S3BucketIn(serializers.Serializer):
    name = serializers.CharField(max_length=63)


class S3BucketDeleteIn(serializers.Serializer):
    delete_objects = serializers.BooleanField(
        default=False, help_text="Delete every object first (else only an empty bucket)."
    )


class S3BucketAccessIn(serializers.Serializer):
    public = serializers.BooleanField()


class S3BucketWebsiteIn(serializers.Serializer):
    enabled = serializers.BooleanField()
    index_document = serializers.CharField(max_length=255, default="index.html")
    error_document = serializers.CharField(max_length=255, default="", allow_blank=True)


class S3SettingsOut(serializers.Serializer):
    endpoint = serializers.CharField()
    region = serializers.CharField()
    access_key = serializers.CharField()
    secret_key = serializers.CharField()
    aws_cli = serializers.CharField()
    rclone = serializers.CharField()
    boto3 = serializers.CharField()


class S3KeyOut(serializers.Serializer):
    access_key = serializers.CharField()


class S3NewKeyOut(serializers.Serializer):
    access_key = serializers.CharField()
    secret_key = serializers.CharField(help_text="Shown in this answer only; never stored.")
    settings = S3SettingsOut()


class S3StorageOut(serializers.Serializer):
    settings = S3SettingsOut()
    buckets = S3BucketOut(many=True)
    access_keys = S3KeyOut(many=True)
    max_access_keys = serializers.IntegerField()
