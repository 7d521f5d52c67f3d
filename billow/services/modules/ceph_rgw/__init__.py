"""The ``ceph_rgw`` module: S3 object storage on a Ceph RADOS Gateway (Admin Ops via
``rgwadmin``, the clients' bucket calls via ``boto3`` on their own RGW user)."""

from billow.services.modules.ceph_rgw.config import CephRgwConfig
from billow.services.modules.ceph_rgw.module import CephRgwModule

__all__ = ["CephRgwConfig", "CephRgwModule"]
