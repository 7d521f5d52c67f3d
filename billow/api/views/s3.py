"""S3 storage of a service (issue 15): buckets and access keys on the client's own RGW user,
through ``services.object_storage``. The secret of a new key is in its creation answer only."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from billow.api.serializers import s3 as s
from billow.api.views.base import validated
from billow.api.views.client import ServicesMixin
from billow.services import object_storage


class S3StorageView(ServicesMixin):
    """Endpoint, settings, buckets (with usage) and access key ids of the service."""

    @extend_schema(responses=s.S3StorageOut)
    def get(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        storage = object_storage.storage_of(service)
        body = {
            "settings": asdict(object_storage.client_settings(service)),
            "buckets": [asdict(b) for b in storage.list_buckets()],
            "access_keys": [{"access_key": k.access_key} for k in storage.list_keys()],
            "max_access_keys": storage.config.max_access_keys,
        }
        return Response(s.S3StorageOut(body).data)


class S3BucketCreateView(ServicesMixin):
    @extend_schema(request=s.S3BucketIn, responses={201: s.S3BucketIn})
    def post(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        data = validated(s.S3BucketIn, request.data)
        object_storage.storage_of(service).create_bucket(data["name"])
        return Response({"name": data["name"]}, status=status.HTTP_201_CREATED)


class S3BucketDeleteView(ServicesMixin):
    @extend_schema(request=s.S3BucketDeleteIn, responses={204: None})
    def post(self, request: Request, service_id: int, name: str) -> Response:
        service = self.get_service(service_id)
        data = validated(s.S3BucketDeleteIn, request.data)
        storage = object_storage.storage_of(service)
        storage.delete_bucket(name, delete_objects=data["delete_objects"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class S3BucketAccessView(ServicesMixin):
    @extend_schema(request=s.S3BucketAccessIn, responses={204: None})
    def post(self, request: Request, service_id: int, name: str) -> Response:
        service = self.get_service(service_id)
        data = validated(s.S3BucketAccessIn, request.data)
        object_storage.storage_of(service).set_public(name, data["public"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class S3BucketWebsiteView(ServicesMixin):
    @extend_schema(request=s.S3BucketWebsiteIn, responses={204: None})
    def post(self, request: Request, service_id: int, name: str) -> Response:
        service = self.get_service(service_id)
        data = validated(s.S3BucketWebsiteIn, request.data)
        storage = object_storage.storage_of(service)
        if data["enabled"]:
            storage.set_website(name, index=data["index_document"], error=data["error_document"])
        else:
            storage.disable_website(name)
        return Response(status=status.HTTP_204_NO_CONTENT)


class S3KeyCreateView(ServicesMixin):
    @extend_schema(request=None, responses={201: s.S3NewKeyOut})
    def post(self, request: Request, service_id: int) -> Response:
        service = self.get_service(service_id)
        key = object_storage.storage_of(service).create_key()
        body = {
            "access_key": key.access_key,
            "secret_key": key.secret_key,
            "settings": asdict(object_storage.client_settings(service, key)),
        }
        response = Response(s.S3NewKeyOut(body).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class S3KeyRevokeView(ServicesMixin):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, service_id: int, access_key: str) -> Response:
        object_storage.storage_of(self.get_service(service_id)).revoke_key(access_key)
        return Response(status=status.HTTP_204_NO_CONTENT)
