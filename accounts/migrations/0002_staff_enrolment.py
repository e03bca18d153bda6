"""Set-up links for two-step sign-in (accounts.models.EnrolmentLink).

Only the hash of each link's token is stored. Backup codes are django-otp's own
otp_static tables, which its migrations create.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_roles_for_guide_parts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EnrolmentLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "token_hash",
                    models.CharField(
                        editable=False, max_length=64, unique=True, verbose_name="token hash"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="made"),
                ),
                ("expires_at", models.DateTimeField(verbose_name="works until")),
                ("used_at", models.DateTimeField(blank=True, null=True, verbose_name="used")),
                (
                    "voided_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="When a newer link for the same person replaced it.",
                        null=True,
                        verbose_name="replaced",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty when made on the server with manage.py enrolment_link.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="made by",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="enrolment_links",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="for",
                    ),
                ),
            ],
            options={
                "verbose_name": "set-up link",
                "verbose_name_plural": "set-up links",
                "ordering": ["-created_at", "-pk"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("used_at", None), ("voided_at", None)),
                        fields=("user",),
                        name="accounts_one_open_enrolment_link_per_user",
                        violation_error_message="This person already has an open set-up link.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("created_at"))),
                        name="accounts_enrolment_link_expires_after_it_is_made",
                        violation_error_message="A set-up link must expire after it is made.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("used_at", None), ("voided_at", None), _connector="OR"),
                        name="accounts_enrolment_link_used_or_replaced_not_both",
                        violation_error_message="A set-up link is either used or replaced.",
                    ),
                ],
            },
        ),
    ]
