"""Create the editorial staff groups with the least permissions each role needs."""

from django.db import migrations

GROUPS = {
    # Authors write drafts, maintain the study library and submit for review.
    "Authors": [
        "view_article",
        "add_article",
        "change_article",
        "submit_article",
        "view_study",
        "add_study",
        "change_study",
        "view_topic",
        "view_citation",
        "view_claim",
    ],
    # Medical reviewers check claims against studies, approve and publish; they do not write.
    "Medical reviewers": [
        "view_article",
        "review_article",
        "approve_article",
        "publish_article",
        "view_study",
        "change_study",
        "view_topic",
        "view_citation",
        "change_citation",
        "view_claim",
        "change_claim",
    ],
}


def create_permissions_now(apps):
    # Permissions are normally created after all migrations; groups need them now.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def create_groups(apps, schema_editor):
    create_permissions_now(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="articles", codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Missing permissions for {name}: {sorted(missing)}")
        group.permissions.add(*permissions)


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
