"""Staff groups and their permissions.

Content editors: add, change, delete and view every education model; nothing about
requests. Front desk: view education content; view and change requests, export them
as CSV, log calls (add, view, change) and view the history; no content editing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT_EDITORS = "Content editors"
FRONT_DESK = "Front desk"

FRONT_DESK_PERMISSIONS = [
    ("appointments", "request", ["view", "change", "export"]),
    ("appointments", "contactattempt", ["add", "view", "change"]),
    ("appointments", "requestevent", ["view"]),
]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations run; create them now.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    education = Permission.objects.filter(content_type__app_label="education")

    editors, _ = Group.objects.get_or_create(name=CONTENT_EDITORS)
    editors.permissions.set(education)

    front_desk, _ = Group.objects.get_or_create(name=FRONT_DESK)
    permissions = list(education.filter(codename__startswith="view_"))
    for app_label, model, actions in FRONT_DESK_PERMISSIONS:
        codenames = [
            "export_request" if action == "export" else f"{action}_{model}" for action in actions
        ]
        found = Permission.objects.filter(
            content_type__app_label=app_label,
            content_type__model=model,
            codename__in=codenames,
        )
        if found.count() != len(codenames):
            raise RuntimeError(f"Missing permissions for {app_label}.{model}: {codenames}")
        permissions.extend(found)
    front_desk.permissions.set(permissions)


def delete_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=[CONTENT_EDITORS, FRONT_DESK]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("education", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
