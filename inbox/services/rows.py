"""Insert many new rows at once: COPY on PostgreSQL, `bulk_create` elsewhere (the SQLite demo).

The sync writes thousands of rows per page. Django's `bulk_create` builds one parameter per
value and psycopg quotes each of them in Python; COPY streams the rows through the C adapters
instead. On PostgreSQL the rows go into a per-connection temporary staging table (no indexes,
no WAL) and then into the real table with one `INSERT … SELECT … ON CONFLICT DO NOTHING`, so
the unique constraints stay the safety net, exactly as with `bulk_create(ignore_conflicts=True)`.

Rows are dicts keyed by field attnames (`account_id`, not `account`); a missing field takes the
model's default (`auto_now` fields: `now`).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models
from psycopg.types.json import Jsonb

from inbox.services.sla import in_chunks

_REQUIRED = object()


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    key: str | None = None,
    scope: Mapping[str, Any] | None = None,
) -> dict[Any, int]:
    """Insert `rows`, skipping any that would break a unique constraint.

    With `key` (a unique field within `scope`), returns key → pk for every row, inserted or
    already there (a concurrent sync of a sibling account may have inserted it first).
    """
    if not rows:
        return {}
    if connection.vendor == "postgresql":
        ids = _copy_insert(model, rows, now=now, key=key)
    else:
        model._default_manager.bulk_create([model(**row) for row in rows], ignore_conflicts=True)
        ids = {}
    if key is None:
        return {}
    missing = [row[key] for row in rows if row[key] not in ids]
    for chunk in in_chunks(missing):
        ids.update(
            (value, pk)
            for pk, value in model._default_manager.filter(
                **{f"{key}__in": chunk}, **(scope or {})
            ).values_list("pk", key)
        )
    return ids


def _copy_insert(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, now: datetime, key: str | None
) -> dict[Any, int]:
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    defaults = [_default(field, now) for field in fields]
    json_columns = [isinstance(field, models.JSONField) for field in fields]
    table = meta.db_table
    stage = f"stage_{table}"
    columns = ", ".join(field.column for field in fields)
    returning = f" RETURNING {meta.pk.column}, {meta.get_field(key).column}" if key else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS "  # noqa: S608 - names from the model
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = []
                for field, default, is_json in zip(fields, defaults, json_columns, strict=True):
                    value = row.get(field.attname, default)
                    if value is _REQUIRED:
                        raise ValueError(f"{meta.label}.{field.attname} is required")
                    values.append(Jsonb(value) if is_json and value is not None else value)
                copy.write_row(values)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} "  # noqa: S608
            f"ON CONFLICT DO NOTHING{returning}"
        )
        ids = {value: pk for pk, value in cursor.fetchall()} if key else {}
        cursor.execute(f"TRUNCATE {stage}")
    return ids


def _default(field: models.Field, now: datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    return _REQUIRED
