"""Let the Clinical staff group read the submission access log (who looked at what, when)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Clinical staff"


def grant(apps, schema_editor):
    app_config = apps.get_app_config("screening")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.get(name=GROUP)
    group.permissions.add(
        Permission.objects.get(content_type__app_label="screening", codename="view_submissionaccess")
    )


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=GROUP).first()
    if group:
        group.permissions.remove(*group.permissions.filter(codename="view_submissionaccess"))


class Migration(migrations.Migration):
    dependencies = [("screening", "0003_resubmission_escalation_notify_claim_list_access")]

    operations = [migrations.RunPython(grant, revoke)]
