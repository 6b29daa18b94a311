"""Formerly gave Medical reviewers `verify_study`; clinic/roles.py now declares every grant."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("articles", "0006_study_verify_permission")]

    operations = []
