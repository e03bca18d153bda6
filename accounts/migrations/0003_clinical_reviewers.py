"""Staff profiles (a reviewer's credentials), the "Clinical reviewers" role
(accounts/roles.py), and every role's permissions again now that education has drafts,
approvals and approved versions."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from accounts import roles


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_enrolment"),
        ("education", "0004_drafts_and_revisions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffProfile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "credentials",
                    models.CharField(
                        blank=True,
                        help_text="As the pages show them after the person's name, for example “MD” or “MD, pain medicine”. Needed to approve pages as a clinical reviewer.",
                        max_length=120,
                        verbose_name="credentials",
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="staff_profile",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "staff profile",
                "verbose_name_plural": "staff profiles",
            },
        ),
        migrations.RunPython(roles.create_groups, migrations.RunPython.noop),
    ]
