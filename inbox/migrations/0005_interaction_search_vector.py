"""Russian full-text search reads a stored document instead of computing it per row.

PostgreSQL only, like 0002: a generated `search_vector` column (kept current by PostgreSQL on
every insert and update, so no Python code writes it) with the GIN index moved onto it. A
search then checks a stored value for each candidate row instead of running the Russian
stemmer over its text, which is what made a filtered search scan slow. SQLite (the local demo)
has neither and searches with `icontains`. `inbox.selectors.SEARCH_VECTOR_SQL` names the column.
"""

from django.db import migrations

DOCUMENT = (
    "to_tsvector('russian'::regconfig, text || ' ' || pros || ' ' || cons || ' ' || customer_name)"
)

FORWARD = [
    "ALTER TABLE inbox_interaction ADD COLUMN IF NOT EXISTS search_vector tsvector "
    f"GENERATED ALWAYS AS ({DOCUMENT}) STORED",
    "DROP INDEX IF EXISTS ix_interaction_search_ru",
    "CREATE INDEX IF NOT EXISTS ix_interaction_search ON inbox_interaction "
    "USING gin (search_vector)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS ix_interaction_search",
    "ALTER TABLE inbox_interaction DROP COLUMN IF EXISTS search_vector",
    f"CREATE INDEX IF NOT EXISTS ix_interaction_search_ru ON inbox_interaction USING gin (({DOCUMENT}))",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("inbox", "0004_lean_sync_indexes")]

    operations = [migrations.RunPython(forward, backward)]
