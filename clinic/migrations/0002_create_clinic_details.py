"""Create the single clinic-details row, so every page reads it with one query."""

from django.db import migrations


def create_row(apps, schema_editor):
    apps.get_model("clinic", "ClinicDetails").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0001_initial")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
