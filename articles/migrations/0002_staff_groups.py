"""Formerly created the editorial staff groups.

The groups and their permissions are now declared in clinic/roles.py and kept in sync after every
migrate (post_migrate), so this migration does nothing; it stays so the history is unchanged.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = []
