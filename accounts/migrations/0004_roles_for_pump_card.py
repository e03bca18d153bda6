"""The staff roles again (accounts/roles.py), now that education has pump models (the
pump card's block): editors may write them, reviewers and the front desk read them."""

from django.db import migrations

from accounts import roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_clinical_reviewers"),
        ("education", "0007_pump_card"),
    ]

    operations = [migrations.RunPython(roles.create_groups, migrations.RunPython.noop)]
