"""The staff roles: each group's name and what its members may do. The one place for them.

Content editors: add, change, delete and view every education model (drafts only:
a page with an approved version changes through its draft, education/workflow.py);
nothing about requests. Clinical reviewers: view education content, and approve,
send back, restore and take pages off the site (`approve_procedure`); they change no
content themselves. Front desk: view education content; view and change requests,
export them as CSV, log calls (add and view: a logged call is a record, only a
superuser changes it), view the history and the count of discarded spam sends, and
keep the clinic's closure days; no content editing. Approved versions
(education.Revision) have only a view permission: only approval writes them.

`create_groups()` makes the groups and sets their permissions. The data migration
(appointments 0002) and the tests call it; running it again changes nothing. A new role,
or a new permission for one, goes here and into a new data migration that calls it.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

CONTENT_EDITORS = "Content editors"
CLINICAL_REVIEWERS = "Clinical reviewers"
FRONT_DESK = "Front desk"

# Role -> [(app label, model, actions)]: "*" is every model of the app; an action is
# a permission codename's first word ("view" -> view_request).
ROLES = {
    CONTENT_EDITORS: [("education", "*", ["add", "change", "delete", "view"])],
    CLINICAL_REVIEWERS: [
        ("education", "*", ["view"]),
        ("education", "procedure", ["approve"]),
    ],
    FRONT_DESK: [
        ("education", "*", ["view"]),
        ("appointments", "request", ["view", "change", "export"]),
        ("appointments", "contactattempt", ["add", "view"]),
        ("appointments", "requestevent", ["view"]),
        ("appointments", "closureday", ["add", "change", "delete", "view"]),
        ("appointments", "discardedsend", ["view"]),
    ],
}


def permissions_for(role, apps=global_apps):
    """The Permission rows a role gets, as they exist in `apps` (a migration's state)."""
    Permission = apps.get_model("auth", "Permission")
    found = Permission.objects.none()
    for app_label, model, actions in ROLES[role]:
        rows = Permission.objects.filter(content_type__app_label=app_label)
        if model != "*":
            rows = rows.filter(content_type__model=model)
        found |= rows.filter(codename__regex=rf"^({'|'.join(actions)})_")
    return found


def create_groups(apps=global_apps, schema_editor=None):
    """Make every role's group with exactly its permissions (idempotent)."""
    # Inside migrations, permissions are only created after the last one: make them now.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions_for(role, apps))


def delete_groups(apps=global_apps, schema_editor=None):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()
