"""A ``Serializer`` that builds its fields faster.

DRF deep-copies every declared field each time a serializer is instantiated (twice per API
request at least: input and output), which re-runs each field's ``__init__``. Here the declared
fields are deep-copied once per class into prototypes, and each instance gets shallow copies of
the plain ones; a field that holds other fields (a nested serializer, a ``ListField`` /
``DictField`` child) is still deep-copied, because binding it rebinds what it holds. Binding
only sets attributes on the copy, so instances share nothing they change.
"""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import serializers

_PROTOTYPES = "_billow_field_prototypes"


def _holds_fields(field: Any) -> bool:
    return isinstance(field, serializers.BaseSerializer) or hasattr(field, "child")


class Serializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        prototypes: dict[str, serializers.Field] | None = cls.__dict__.get(_PROTOTYPES)
        if prototypes is None:  # per class: a subclass has its own declared fields
            prototypes = copy.deepcopy(self._declared_fields)
            setattr(cls, _PROTOTYPES, prototypes)
        return {
            name: copy.deepcopy(f) if _holds_fields(f) else copy.copy(f)
            for name, f in prototypes.items()
        }
