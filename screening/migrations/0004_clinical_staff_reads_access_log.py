"""Formerly let Clinical staff read the access log; clinic/roles.py now declares every grant."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("screening", "0003_resubmission_escalation_notify_claim_list_access")]

    operations = []
