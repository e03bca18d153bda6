"""Staff groups and their permissions, as accounts/roles.py defines them."""

from django.db import migrations

from accounts import roles


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("education", "0001_initial"),
    ]

    operations = [migrations.RunPython(roles.create_groups, roles.delete_groups)]
