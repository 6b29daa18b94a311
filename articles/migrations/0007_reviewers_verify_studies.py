"""Give Medical reviewers the permission to change a study's type, finding and retraction."""

from importlib import import_module

from django.db import migrations

# Permissions are created after migrations; the groups migration knows how to make them now.
create_permissions_now = import_module("articles.migrations.0002_staff_groups").create_permissions_now


def grant(apps, schema_editor):
    create_permissions_now(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="articles", codename="verify_study")
    Group.objects.get(name="Medical reviewers").permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(
        content_type__app_label="articles", codename="verify_study"
    ).first()
    if permission:
        Group.objects.get(name="Medical reviewers").permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [("articles", "0006_study_verify_permission")]

    operations = [migrations.RunPython(grant, revoke)]
