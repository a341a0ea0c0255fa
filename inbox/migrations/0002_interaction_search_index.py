"""Russian full-text search over interactions: a GIN expression index, on PostgreSQL only.

The expression must stay identical to `inbox.selectors.SEARCH_DOCUMENT_SQL`; SQLite (local
demo) has no such index and searches with `icontains` instead.
"""

from django.db import migrations

INDEX_NAME = "ix_interaction_search_ru"

CREATE = f"""
CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON inbox_interaction USING gin (
    (to_tsvector('russian'::regconfig, text || ' ' || pros || ' ' || cons || ' ' || customer_name))
)
"""
DROP = f"DROP INDEX IF EXISTS {INDEX_NAME}"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("inbox", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
