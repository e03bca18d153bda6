"""Content history with the words: what each admin save changed, from what, to what.

The admin's history (Django's LogEntry, on each page's "History" link) records who saved
and when, and names the fields that changed. For the clinic's content that does not
answer "what did this page say before?", so ContentAuditMixin writes each changed
field as `Summary: “old” → “new”`, on the page itself and in its inline blocks. Django
shows that message on the history page as it is.

Only for education content: the clinic's own published words, never patient data.
Requests keep their own history (appointments.RequestEvent), which never copies values.
"""

import datetime

from django import forms
from django.utils.translation import gettext as _

EMPTY = "(empty)"


class ContentAuditMixin:
    """For a ModelAdmin: old and new values in the history of every change it saves."""

    def construct_change_message(self, request, form, formsets, add):
        message = super().construct_change_message(request, form, formsets, add)
        # Django builds the message in a fixed order: the page itself, then each inline
        # formset's added, changed and deleted objects. Walk it in the same order.
        entries = iter(message)
        if add or form.changed_data:
            entry = next(entries)
            if not add:
                entry["changed"]["fields"] = describe(form, form.changed_data)
        for formset in formsets or []:
            for _added in formset.new_objects:
                next(entries)
            forms_by_object = {id(inline.instance): inline for inline in formset.forms}
            for changed_object, changed_data in formset.changed_objects:
                entry = next(entries)
                entry["changed"]["fields"] = describe(
                    forms_by_object[id(changed_object)], changed_data
                )
            for _deleted in formset.deleted_objects:
                next(entries)
        return message


def describe(form, names):
    return [
        _("%(field)s: %(old)s → %(new)s")
        % {
            "field": form.fields[name].label or name,
            "old": shown(form.fields[name], form[name].initial),
            "new": shown(form.fields[name], form.cleaned_data.get(name)),
        }
        for name in names
    ]


def shown(field, value):
    """A value as an editor would recognise it: the text, the choice's label, the names."""
    if isinstance(field, forms.ModelMultipleChoiceField):
        names = sorted(str(obj) for obj in value or [])
        return ", ".join(f"“{name}”" for name in names) or EMPTY
    if isinstance(field, forms.ModelChoiceField) and value not in (None, ""):
        if not hasattr(value, "pk"):
            value = field.queryset.filter(pk=value).first() or value
    elif isinstance(field, forms.ChoiceField):
        value = dict(field.choices).get(value, value)
    if isinstance(field, forms.FileField):
        # A stored or uploaded file: its name (cleared, the form gives False).
        return f"“{value.name}”" if value else EMPTY
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return f"“{value}”"
