from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def sync_staff_groups(sender, app_config=None, apps=None, using="default", plan=None, **kwargs):
    """After `migrate`, make the staff groups match clinic/roles.py exactly."""
    from clinic.roles import sync_groups

    if plan and any(backwards for _migration, backwards in plan):
        # Unapplying migrations: the models a role names may be gone; leave groups alone.
        return
    sync_groups(apps or global_apps, using=using, strict=False)


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        from clinic import checks  # noqa: F401  (registers the deployment checks)

        post_migrate.connect(sync_staff_groups, sender=self, dispatch_uid="clinic_sync_groups")
