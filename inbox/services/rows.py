"""Write many rows at once: COPY on PostgreSQL, `bulk_create`/`bulk_update` elsewhere (SQLite).

The sync writes thousands of rows per page. Django's bulk methods build one parameter per value
(and `bulk_update` a CASE per column and row) which psycopg quotes in Python; a binary COPY
streams the rows through the C adapters instead, with the column types given up front (no
per-value type lookup) and JSON values dumped by orjson. On PostgreSQL the rows go into a
per-connection temporary staging table (no indexes, no WAL), then into the real table with one
statement: `INSERT … SELECT … ON CONFLICT DO NOTHING` (the unique constraints stay the safety
net, as with `bulk_create(ignore_conflicts=True)`) or `UPDATE … FROM` the staged rows. A few
rows are inserted with one plain `INSERT … VALUES … ON CONFLICT DO NOTHING` instead.

Rows are dicts keyed by field attnames (`account_id`, not `account`); a missing field takes the
model's default (`auto_now` fields: `now`); `constants` are fields with one value for every row,
bound once per statement instead of streamed with each row.
"""

import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson
from django.db import connection, models
from django.db.models.fields.related_lookups import RelatedLookupMixin
from psycopg.types.json import Jsonb

_REQUIRED = object()

# Up to this many rows an insert is one INSERT … VALUES statement (bound parameters); more
# go through COPY and the staging table, whose fixed cost pays off only for bigger pages.
SMALL_INSERT_ROWS = 50

# SQLite allows 999 variables per statement: `__in` lookups go in chunks below that.
# PostgreSQL has no such limit (Django binds client-side): one query per lookup there.
_SQLITE_IN_CHUNK = 900


def in_chunks(values: Sequence[Any], *, lookups: int = 1) -> Iterator[Sequence[Any]]:
    """`values` in slices small enough for `lookups` `__in` lookups of one statement.

    Shared by the ingest services (ingest, SLA, journeys, rows), which look up whole pages by id.
    """
    size = _SQLITE_IN_CHUNK // lookups if connection.vendor == "sqlite" else len(values) or 1
    for start in range(0, len(values), size):
        yield values[start : start + size]


class _AnyOf(models.Lookup):
    """`field = ANY(%s)` with the values as ONE array parameter (PostgreSQL)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> Any:
        return "%s", [list(value)]

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


class _RelatedAnyOf(RelatedLookupMixin, _AnyOf):  # type: ignore[misc]
    """The same on a foreign key (`interaction_id__any_of`)."""


models.Field.register_lookup(_AnyOf)
models.ForeignObject.register_lookup(_RelatedAnyOf)


def matching(field: str, values: Sequence[Any]) -> Iterator[dict[str, Any]]:
    """Filter kwargs selecting rows whose `field` is one of `values`, a statement each.

    PostgreSQL: one `= ANY(array)` (a single parameter, however many values: a page of 5,000
    ids costs what one costs); SQLite: `IN` lists in chunks under its variable limit.
    """
    if connection.vendor == "postgresql":
        if values:
            yield {f"{field}__any_of": values}
        return
    for chunk in in_chunks(values):
        yield {f"{field}__in": chunk}


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    key: str | None = None,
    scope: Mapping[str, Any] | None = None,
    constants: Mapping[str, Any] | None = None,
) -> dict[Any, int]:
    """Insert `rows` (each also takes the `constants`), skipping any that would break a
    unique constraint.

    With `key` (a unique field within `scope`), returns key → pk for every row, inserted or
    already there (a concurrent sync of a sibling account may have inserted it first).
    """
    if not rows:
        return {}
    constants = constants or {}
    if connection.vendor == "postgresql":
        ids = _copy_insert(model, rows, now=now, key=key, constants=constants)
    else:
        model._default_manager.bulk_create(
            [model(**row, **constants) for row in rows], ignore_conflicts=True
        )
        ids = {}
    if key is None:
        return {}
    missing = [row[key] for row in rows if row[key] not in ids]
    for lookup in matching(key, missing):
        ids.update(
            (value, pk)
            for pk, value in model._default_manager.filter(**lookup, **(scope or {})).values_list(
                "pk", key
            )
        )
    return ids


def update_rows(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], fields: Sequence[str]
) -> None:
    """Set `fields` (attnames) of existing rows; each row also holds its `id`."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(
            [model(pk=row["id"], **{name: row[name] for name in fields}) for row in rows],
            fields,
            batch_size=500,
        )
        return
    meta = model._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    targets = [by_attname[name] for name in fields]
    json_positions = [n + 1 for n, field in enumerate(targets) if _is_json(field)]
    pk = _column(meta.pk)
    with connection.cursor() as cursor:
        stage = _stage(cursor, meta)
        columns = ", ".join([pk, *(_column(field) for field in targets)])
        with _copy(cursor, stage, columns, [meta.pk, *targets]) as copy:
            for row in rows:
                values = [row["id"], *(row[name] for name in fields)]
                _wrap_json(values, json_positions)
                copy.write_row(values)
        cursor.execute(f"ANALYZE {stage}")  # else the join may scan the whole table
        assignments = ", ".join(f"{_column(f)} = s.{_column(f)}" for f in targets)
        cursor.execute(
            f"UPDATE {meta.db_table} AS t SET {assignments} "  # noqa: S608 - model names
            f"FROM {stage} AS s WHERE t.{pk} = s.{pk}"
        )
        _empty(cursor, stage, len(rows))


def _stage(cursor: Any, meta: Any) -> str:
    """This connection's empty staging table shaped like the model's table (no constraints,
    no WAL). Its name carries the model's columns: a worker that outlives a migration gets a
    new staging table instead of a stale one."""
    table = meta.db_table
    columns = ", ".join(_column(field) for field in meta.concrete_fields)
    stage = f"stage_{table}_{zlib.crc32(columns.encode()):08x}"
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS "  # noqa: S608 - names from the model
        f"SELECT {columns} FROM {table} WITH NO DATA"
    )
    return stage


@contextmanager
def _copy(cursor: Any, stage: str, columns: str, fields: Sequence[models.Field]) -> Iterator[Any]:
    """A binary COPY into `stage`: the column types are set once, so no value is inspected
    for its type."""
    with cursor.cursor.copy(f"COPY {stage} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([_pg_type(field) for field in fields])
        yield copy


def _pg_type(field: models.Field) -> str:
    """The column's type name as psycopg knows it (`varchar(200)` → `varchar`)."""
    return str(field.db_type(connection)).split("(", 1)[0]


def _wrap_json(values: list[Any], positions: Sequence[int]) -> None:
    for position in positions:
        if values[position] is not None:
            values[position] = Jsonb(values[position], dumps=orjson.dumps)


def _empty(cursor: Any, stage: str, rows: int) -> None:
    # DELETE is cheaper for a few rows, TRUNCATE (a new empty file) for many.
    cursor.execute(f"TRUNCATE {stage}" if rows > 1000 else f"DELETE FROM {stage}")  # noqa: S608


def _copy_insert(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    key: str | None,
    constants: Mapping[str, Any],
) -> dict[Any, int]:
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    keys = rows[0].keys()
    # The rows' own columns are staged; the others take their constant or default value in
    # the INSERT itself.
    given = [field for field in fields if field.attname in keys]
    if len(given) != len(keys) or keys & constants.keys():
        raise ValueError(f"{meta.label}: unknown fields, or fields also constant: {sorted(keys)}")
    defaulted = [field for field in fields if field.attname not in keys]
    if not constants.keys() <= {field.attname for field in defaulted}:
        raise ValueError(f"{meta.label}: unknown constants {sorted(constants)}")
    defaults: list[Any] = []
    for field in defaulted:
        value = constants[field.attname] if field.attname in constants else _default(field, now)
        if value is _REQUIRED:
            raise ValueError(f"{meta.label}.{field.attname} is required")
        defaults.append(value)
    _wrap_json(defaults, [n for n, field in enumerate(defaulted) if _is_json(field)])
    names = [field.attname for field in given]
    json_positions = [n for n, field in enumerate(given) if _is_json(field)]
    table = meta.db_table
    staged = ", ".join(_column(field) for field in given)
    columns = ", ".join(_column(field) for field in given + defaulted)
    selected = ", ".join([staged, *(["%s"] * len(defaulted))])
    key_field = next((f for f in fields if f.attname == key), None)
    returning = f" RETURNING {_column(meta.pk)}, {_column(key_field)}" if key_field else ""
    staged_rows = []
    for row in rows:
        if row.keys() != keys:
            raise ValueError(f"{meta.label}: every row needs the same fields")
        values = [row[name] for name in names]
        _wrap_json(values, json_positions)
        staged_rows.append(values)
    with connection.cursor() as cursor:
        if len(rows) <= SMALL_INSERT_ROWS:
            # A few rows (a fan-out sync's new items): one INSERT … VALUES instead of the
            # staging table's four statements.
            placeholders = "(" + ", ".join(["%s"] * (len(given) + len(defaulted))) + ")"
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 - model names
                + ", ".join([placeholders] * len(rows))
                + f" ON CONFLICT DO NOTHING{returning}",
                [value for values in staged_rows for value in (*values, *defaults)],
            )
        else:
            stage = _stage(cursor, meta)
            with _copy(cursor, stage, staged, given) as copy:
                for values in staged_rows:
                    copy.write_row(values)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT {selected} FROM {stage} "  # noqa: S608
                f"ON CONFLICT DO NOTHING{returning}",
                defaults,
            )
        ids = {value: pk for pk, value in cursor.fetchall()} if key else {}
        if len(rows) > SMALL_INSERT_ROWS:
            _empty(cursor, stage, len(rows))
    return ids


def _is_json(field: models.Field) -> bool:
    return isinstance(field, models.JSONField)


def _column(field: Any) -> str:
    return str(field.column)


def _default(field: models.Field, now: datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    return _REQUIRED
