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
from django.db.models.fields import AutoFieldMixin

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


_INSERT_SQL: dict[tuple[type[Model], int, str], tuple[str, list[Field[Any, Any]]]] = {}


def insert(objs: Sequence[M]) -> list[M]:
    """INSERT unsaved ``objs`` (one concrete model, no parents) in one statement and set their
    primary keys: the rows ``bulk_create`` would write (values prepared by the same field
    methods, ``pre_save`` included, so ``auto_now`` stamps), without its per-call query build.
    Like ``bulk_create``, it sends no ``save`` signals: use it only for models that have none
    (a hot path's inserts). Needs ``INSERT ... RETURNING`` (PostgreSQL, SQLite >= 3.35)."""
    if not objs:
        return []
    model = type(objs[0])
    meta = model._meta
    auto = isinstance(meta.pk, AutoFieldMixin)
    if meta.parents or any(type(o) is not model or (auto and o.pk is not None) for o in objs):
        raise TypeError("insert() takes new rows of one model without parents")
    fields = _insert_sql(model, 1)[1]
    per_statement = max(1, min(1000, 30000 // len(fields)))  # SQLite allows 32766 parameters
    ids: list[Any] = []
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            sql, _ = _insert_sql(model, len(chunk))
            cursor.execute(
                sql,
                [
                    f.get_db_prep_save(f.pre_save(o, True), connection)
                    for o in chunk
                    for f in fields
                ],
            )
            ids += [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk  # the returned key (the given one when the model has no AutoField)
        obj._state.adding = False
        obj._state.db = connection.alias
    return list(objs)


def _insert_sql(model: type[Model], n: int) -> tuple[str, list[Field[Any, Any]]]:
    key = (model, n, connection.vendor)
    known = _INSERT_SQL.get(key)
    if known is None:
        meta = model._meta
        qn = connection.ops.quote_name
        auto = isinstance(meta.pk, AutoFieldMixin)  # the database numbers the rows
        fields = [f for f in meta.concrete_fields if not (auto and f is meta.pk)]
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES {', '.join([row] * n)} RETURNING {qn(meta.pk.column)}"
        )
        known = _INSERT_SQL[key] = (sql, fields)
    return known
