"""Model rows in hand-written SQL, for the hot paths that fold several ORM statements into one
(the job runner, ``complete_operation``) or whose ORM query costs far more to build than to run
(the API token lookup).

:class:`Columns` is a model's column list under a table alias and turns a slice of a result row
back into an instance, with the converters the ORM itself applies (JSON, dates ...). Listing
some fields only gives an instance whose other fields are deferred (loaded on first access).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)
_Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


class Columns(Generic[M]):
    """The columns of ``model`` (all concrete fields, or ``fields``) as ``alias."column"``."""

    def __init__(self, model: type[M], alias: str, fields: Sequence[str] | None = None) -> None:
        meta = model._meta
        wanted = set(fields) if fields is not None else None
        self.model = model
        self.alias = alias
        self.fields: list[Field[Any, Any]] = [
            f for f in meta.concrete_fields if wanted is None or f.name in wanted
        ]
        if wanted is not None and len(self.fields) != len(wanted):
            raise ValueError(f"unknown fields of {model.__name__}: {sorted(wanted)}")
        self.attnames = [f.attname for f in self.fields]
        self._by_name = {f.name: f for f in self.fields}
        self._sql: str | None = None
        self._converters: list[tuple[int, list[_Converter], Any]] | None = None

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def sql(self) -> str:
        """``alias."col", alias."col2", ...`` in the model's field order."""
        if self._sql is None:
            qn = connection.ops.quote_name
            self._sql = ", ".join(f"{self.alias}.{qn(f.column)}" for f in self.fields)
        return self._sql

    def prep(self, name: str, value: Any) -> Any:
        """``value`` of field ``name`` as a statement parameter (as ``save()`` sends it)."""
        return self._by_name[name].get_db_prep_save(value, connection)

    def load(self, row: Sequence[Any], start: int = 0) -> M:
        """The instance from ``row[start:start + len(self)]`` (as ``QuerySet`` would build it)."""
        values = list(row[start : start + len(self.fields)])
        for i, converters, col in self._get_converters():
            value = values[i]
            for convert in converters:
                value = convert(value, col, connection)
            values[i] = value
        return self.model.from_db(connection.alias, self.attnames, values)

    def _get_converters(self) -> list[tuple[int, list[_Converter], Any]]:
        if self._converters is None:
            found = []
            for i, f in enumerate(self.fields):
                col = f.get_col(self.alias)
                converters = connection.ops.get_db_converters(col) + col.get_db_converters(
                    connection
                )
                if converters:
                    found.append((i, converters, col))
            self._converters = found
        return self._converters
