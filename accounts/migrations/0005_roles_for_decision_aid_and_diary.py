"""The staff roles again (accounts/roles.py), now that education has the decision aid's
and the trial diary's blocks: editors may write them, reviewers and the front desk read
them."""

from django.db import migrations

from accounts import roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_roles_for_pump_card"),
        ("education", "0008_decision_aid_and_diary"),
    ]

    operations = [migrations.RunPython(roles.create_groups, migrations.RunPython.noop)]
