"""The staff roles again (accounts/roles.py), now that education has guide parts.

A new model, or a new role, gets a migration like this one: create_groups() sets every
role's permissions from what exists at this point.
"""

from django.db import migrations

from accounts import roles


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0003_rate_limit_counter"),
        ("education", "0003_guide_parts"),
    ]

    operations = [migrations.RunPython(roles.create_groups, migrations.RunPython.noop)]
