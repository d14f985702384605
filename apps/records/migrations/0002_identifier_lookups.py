from django.db import migrations

INDEX = "record_identifiers"


def create(apps, schema_editor):
    # Profiles find the records pointing at them by identifier value (identifiers @> {...}).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON records_record "
                              "USING gin (identifiers jsonb_path_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
