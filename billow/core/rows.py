"""Hand-written SQL on Django's terms: the base every app's ``sql.py`` builds on.

The ORM is the default. The statements a benchmark needs by hand (the checkout, the API token
lookup, the job that runs an operation, the billing run's bulk writes) live in their app's
``sql.py`` and use only the helpers here, so that every one of them:

- quotes every table and column name (:func:`table`, :func:`column`, :class:`Columns`);
- runs on the connection the database router picks for its model (:func:`connection_for`,
  :func:`cursor_for`), never on a bare ``django.db.connection``;
- moves a 64-bit column only within the signed 64-bit range (:func:`fits_int64` in SQL,
  :func:`bigint` for an ORM ``F()`` increment), so a balance never turns into a REAL on SQLite
  nor into an overflow error (or, with psycopg's server-side binding, a value truncated to 32
  bits) on PostgreSQL;
- inserts rows with :func:`insert` only for models that have no save receivers.

:class:`Columns` is a model's column list under a table alias and turns a slice of a result row
back into an instance, with the converters the ORM itself applies (JSON, dates ...). Listing
some fields only gives an instance whose other fields are deferred (loaded on first access).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import BigIntegerField, Field, Model, Value
from django.db.models.fields import AutoFieldMixin
from django.db.models.signals import post_save, pre_save

from billow.core.errors import BillowError
from billow.core.money import MAX_MINOR, check_amount

M = TypeVar("M", bound=Model)
T = TypeVar("T")
_Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


class HasSaveReceiversError(BillowError):
    """``insert`` skips save signals, so it refuses a model that has receivers for them."""

    code = "model_has_save_receivers"


# --- where a model's statements run -----------------------------------------------------------


def alias_for(model: type[Model], *, write: bool = True) -> str:
    """The database alias the router picks for ``model`` (as the ORM would for a write or a
    read of it)."""
    return router.db_for_write(model) if write else router.db_for_read(model)


def connection_for(model: type[Model], *, write: bool = True) -> BaseDatabaseWrapper:
    """The connection of :func:`alias_for`."""
    return connections[alias_for(model, write=write)]


@contextmanager
def cursor_for(model: type[Model], *, write: bool = True) -> Iterator[CursorWrapper]:
    """A cursor on ``model``'s connection (closed on exit)."""
    with connection_for(model, write=write).cursor() as cursor:
        yield cursor


#: Every hand-written statement builder (``module.name``), registered by :func:`hand_written`:
#: the SQL test matrix (tests/sql) checks that it runs each of them.
STATEMENTS: set[str] = set()

F = TypeVar("F", bound=Callable[..., Any])


def hand_written(build: F) -> F:
    """Register a statement builder in :data:`STATEMENTS` (``per_vendor`` does it too)."""
    STATEMENTS.add(f"{build.__module__}.{build.__qualname__}")
    return build


def per_vendor(build: Callable[[BaseDatabaseWrapper], T]) -> Callable[[BaseDatabaseWrapper], T]:
    """Cache what ``build(conn)`` returns (a statement's text) per database vendor: the names
    in it never change while the process runs. Registers the builder in :data:`STATEMENTS`."""
    hand_written(build)
    built: dict[str, T] = {}

    @functools.wraps(build)
    def get(conn: BaseDatabaseWrapper) -> T:
        known = built.get(conn.vendor)
        if known is None:
            known = built[conn.vendor] = build(conn)
        return known

    return get


def table(model: type[Model], conn: BaseDatabaseWrapper) -> str:
    """``model``'s quoted table name."""
    return conn.ops.quote_name(model._meta.db_table)


def column(model: type[Model], field: str, conn: BaseDatabaseWrapper) -> str:
    """The quoted column of ``model``'s field ``field`` (``"client"`` gives ``"client_id"``)."""
    found = model._meta.get_field(field)
    if not isinstance(found, Field) or found.column is None:
        raise ValueError(f"{model.__name__}.{field} has no column")
    return conn.ops.quote_name(found.column)


def columns(model: type[Model], fields: Sequence[str], conn: BaseDatabaseWrapper) -> str:
    """``"col", "col2", ...`` of ``fields`` (unaliased, for INSERT and COPY column lists)."""
    return ", ".join(column(model, f, conn) for f in fields)


# --- the signed 64-bit range ------------------------------------------------------------------


def fits_int64(value_sql: str, delta_sql: str) -> str:
    """SQL that is true when ``value + delta`` stays within ``±(2**63 - 1)``, computed without
    overflowing (on SQLite an overflowing sum silently becomes a REAL; on PostgreSQL it raises).
    Both operands must be 64-bit integers; ``delta`` is evaluated three times."""
    return (
        f"(CASE WHEN {delta_sql} >= 0 THEN {value_sql} <= {MAX_MINOR} - {delta_sql}"
        f" ELSE {value_sql} >= -{MAX_MINOR} - {delta_sql} END)"
    )


def check_int64(value: int, *, field: str = "amount") -> int:
    """``value`` when it fits a signed 64-bit column, else ``amount_out_of_range``."""
    return check_amount(value, field=field)


def bigint(value: int) -> Value:
    """``value`` as a BIGINT expression for ``F(...) + bigint(delta)``: a bare int is typed
    INTEGER by the ORM, and with psycopg's server-side binding Django then sends it as a 32-bit
    int (a delta of 10**12 arrives as -727,379,968)."""
    return Value(check_int64(value), output_field=BigIntegerField())


# --- rows of a model in hand-written statements -----------------------------------------------


class Columns(Generic[M]):
    """The columns of ``model`` (all concrete fields, or ``fields``) as ``alias."column"``.

    Built at import time, so the connection (the router's, for writes: the statements that read
    these columns back are mostly ``RETURNING`` ones) is looked up on first use."""

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
        self._sql: dict[str, str] = {}
        self._converters: dict[str, list[tuple[int, list[_Converter], Any]]] = {}

    def __len__(self) -> int:
        return len(self.fields)

    @property
    def sql(self) -> str:
        """``alias."col", alias."col2", ...`` in the model's field order."""
        conn = connection_for(self.model)
        known = self._sql.get(conn.vendor)
        if known is None:
            qn = conn.ops.quote_name
            known = ", ".join(f"{self.alias}.{qn(f.column)}" for f in self.fields)
            self._sql[conn.vendor] = known
        return known

    def prep(self, name: str, value: Any, conn: BaseDatabaseWrapper | None = None) -> Any:
        """``value`` of field ``name`` as a statement parameter for ``conn`` (default: the
        model's), as ``save()`` sends it."""
        return self._by_name[name].get_db_prep_save(value, conn or connection_for(self.model))

    def load(
        self, row: Sequence[Any], start: int = 0, conn: BaseDatabaseWrapper | None = None
    ) -> M:
        """The instance from ``row[start:start + len(self)]`` (as ``QuerySet`` would build it)
        read through ``conn`` (default: the model's)."""
        conn = conn or connection_for(self.model)
        values = list(row[start : start + len(self.fields)])
        for i, converters, col in self._get_converters(conn):
            value = values[i]
            for convert in converters:
                value = convert(value, col, conn)
            values[i] = value
        return self.model.from_db(conn.alias, self.attnames, values)

    def _get_converters(self, conn: BaseDatabaseWrapper) -> list[tuple[int, list[_Converter], Any]]:
        found = self._converters.get(conn.vendor)
        if found is None:
            found = []
            for i, f in enumerate(self.fields):
                col = f.get_col(self.alias)
                converters = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
                if converters:
                    found.append((i, converters, col))
            self._converters[conn.vendor] = found
        return found


_INSERT_SQL: dict[tuple[type[Model], int, str], tuple[str, list[Field[Any, Any]]]] = {}


def check_no_save_receivers(model: type[Model]) -> None:
    """``model_has_save_receivers`` when anything listens to ``model``'s ``pre_save`` or
    ``post_save`` (a receiver for every sender counts): a path that skips ``save()`` would
    silently skip it."""
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        raise HasSaveReceiversError(
            f"{model.__name__} has save receivers; rows.insert would skip them",
            model=model._meta.label,
        )


def insert(objs: Sequence[M]) -> list[M]:
    """INSERT unsaved ``objs`` (one concrete model, no parents) in one statement and set their
    primary keys: the rows ``bulk_create`` would write (values prepared by the same field
    methods, ``pre_save`` included, so ``auto_now`` stamps), without its per-call query build.
    It sends no ``save`` signals, so a model with save receivers is refused
    (``model_has_save_receivers``) before anything is written. Runs on the router's connection
    for the model. Needs ``INSERT ... RETURNING`` (PostgreSQL, SQLite >= 3.35)."""
    if not objs:
        return []
    model = type(objs[0])
    meta = model._meta
    auto = isinstance(meta.pk, AutoFieldMixin)
    if meta.parents or any(type(o) is not model or (auto and o.pk is not None) for o in objs):
        raise TypeError("insert() takes new rows of one model without parents")
    check_no_save_receivers(model)
    conn = connection_for(model)
    fields = _insert_sql(model, 1, conn)[1]
    per_statement = max(1, min(1000, 30000 // len(fields)))  # SQLite allows 32766 parameters
    ids: list[Any] = []
    with conn.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            sql, _ = _insert_sql(model, len(chunk), conn)
            cursor.execute(
                sql,
                [f.get_db_prep_save(f.pre_save(o, True), conn) for o in chunk for f in fields],
            )
            ids += [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk  # the returned key (the given one when the model has no AutoField)
        obj._state.adding = False
        obj._state.db = conn.alias
    return list(objs)


@hand_written
def _insert_sql(
    model: type[Model], n: int, conn: BaseDatabaseWrapper
) -> tuple[str, list[Field[Any, Any]]]:
    key = (model, n, conn.vendor)
    known = _INSERT_SQL.get(key)
    if known is None:
        meta = model._meta
        qn = conn.ops.quote_name
        auto = isinstance(meta.pk, AutoFieldMixin)  # the database numbers the rows
        fields = [f for f in meta.concrete_fields if not (auto and f is meta.pk)]
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        # Names come from the model, values are parameters (hence the noqa).
        sql = (
            f"INSERT INTO {table(model, conn)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES {', '.join([row] * n)} RETURNING {qn(meta.pk.column)}"
        )
        known = _INSERT_SQL[key] = (sql, fields)
    return known


# --- COPY of new rows (PostgreSQL) ------------------------------------------------------------

_COPY_SQL: dict[tuple[type[Model], tuple[str, ...], bool], str] = {}


def can_copy(model: type[Model]) -> bool:
    """Whether :func:`copy_rows` can write ``model`` (its connection is PostgreSQL's)."""
    return connection_for(model).vendor == "postgresql"


@hand_written
def copy_sql(model: type[Model], fields: Sequence[str], with_ids: bool) -> str:
    """``COPY table ([id,] fields) FROM STDIN`` (cached per model and column list)."""
    key = (model, tuple(fields), with_ids)
    known = _COPY_SQL.get(key)
    if known is None:
        conn = connection_for(model)
        names = ([model._meta.pk.name] if with_ids else []) + list(fields)
        known = _COPY_SQL[key] = (
            f"COPY {table(model, conn)} ({columns(model, names, conn)}) FROM STDIN"
        )
    return known


@hand_written
def next_ids_sql(model: type[Model], conn: BaseDatabaseWrapper) -> str:
    """N fresh values of ``model``'s id sequence (``%s``: N)."""
    qn = conn.ops.quote_name
    return (
        f"SELECT nextval(pg_get_serial_sequence('{qn(model._meta.db_table)}', "  # noqa: S608
        f"'{model._meta.pk.column}')) FROM generate_series(1, %s)"
    )


def copy_rows(
    model: type[M],
    fields: Sequence[str],
    values: Iterable[Sequence[Any]],
    *,
    with_ids: bool,
    count: int | None = None,
) -> list[int]:
    """COPY ``values`` (one tuple per row, in ``fields`` order, as the database takes them:
    JSON as text, datetimes aware) into ``model``'s table; with ``with_ids`` the ids are drawn
    from its sequence first and returned in row order, else the table's default numbers them
    (and ``[]`` is returned). ``values`` may be a generator (rows are built while the server
    takes the previous ones) when ``count`` says how many there are. PostgreSQL only
    (:func:`can_copy`); no ``save`` signals, so a model with save receivers is refused
    (``model_has_save_receivers``). 64-bit columns are the caller's to check
    (:func:`check_int64`)."""
    if count is None:
        values = list(values)
        count = len(values)
    if not count:
        return []
    check_no_save_receivers(model)
    conn = connection_for(model)
    ids: list[int] = []
    with conn.cursor() as cursor:
        if with_ids:
            cursor.execute(next_ids_sql(model, conn), [count])
            ids = [row[0] for row in cursor.fetchall()]
        with cursor.cursor.copy(copy_sql(model, fields, with_ids)) as copy:
            if with_ids:
                for pk, row in zip(ids, values, strict=True):
                    copy.write_row((pk, *row))
            else:
                for row in values:
                    copy.write_row(row)
    return ids


def write_new(
    model: type[M],
    fields: Sequence[str],
    values: Sequence[Sequence[Any]],
    *,
    with_ids: bool = False,
    batch_size: int = 5000,
) -> list[int]:
    """Insert new rows given as value tuples in ``fields`` order (attribute names: ``client_id``
    for a foreign key; JSON fields as Python values): COPY on PostgreSQL (:func:`copy_rows`,
    every other column taking its field's default, as ``bulk_create`` would), ``bulk_create``
    elsewhere. Returns the ids in row order with ``with_ids``, else ``[]``."""
    meta = model._meta
    if not can_copy(model):
        created = model._default_manager.bulk_create(
            (model(**dict(zip(fields, row, strict=True))) for row in values),
            batch_size=batch_size,
        )
        return [obj.pk for obj in created] if with_ids else []
    given = {name: i for i, name in enumerate(fields)}
    columns_ = [f for f in meta.concrete_fields if f is not meta.pk]
    defaults = {f.attname: f.get_default() for f in columns_ if f.attname not in given}
    json_fields = {
        f.attname: getattr(f, "encoder", None)
        for f in columns_
        if f.get_internal_type() == "JSONField"
    }
    order = [
        (
            given.get(f.attname),
            defaults.get(f.attname),
            f.attname in json_fields,
            json_fields.get(f.attname),
        )
        for f in columns_
    ]

    def full(row: Sequence[Any]) -> tuple[Any, ...]:
        out = []
        for at, default, is_json, encoder in order:
            value = row[at] if at is not None else default
            if is_json:
                value = "{}" if value == {} else json.dumps(value, cls=encoder)
            out.append(value)
        return tuple(out)

    return copy_rows(
        model,
        [f.name for f in columns_],
        (full(r) for r in values),
        with_ids=with_ids,
        count=len(values),
    )
