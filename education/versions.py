"""A page's whole content as one plain value: to keep it, copy it and compare it.

`snapshot(procedure)` writes the page's own fields, its guide's parts and every block
(education/blocks.py) as JSON-ready data. Each part and block carries its `uid`, which
stays the same in every version of the page (its drafts and approved versions), so:

- `changes(old, new)` compares two versions block by block (what the reviewer reads
  before approving, and what "compare versions" shows);
- `replace_content(procedure, content)` makes a page hold exactly that content (a
  draft replacing its live page on approval; an old version made into a draft again);
- `copy_page(procedure)` starts a new page from an existing one (new uids: a new page).

A stored version may be older than the models: a field added since gets its default,
a field removed since is ignored.
"""

import difflib
import json
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .blocks import BLOCKS
from .models import GlossaryTerm, GuidePart, PhaseStep, Procedure, Reference

# The page's own fields that belong to its content (not its review or workflow state).
PAGE_FIELDS = ["title", "slug", "summary", "key_points", "hero_image", "hero_image_alt"]

# Parts come first: blocks name their part; references before the risks that cite them.
PARTS = "parts"
KINDS = [PARTS, "references", *(k.related_name for k in BLOCKS if k.related_name != "references")]
KIND_LABELS = {PARTS: gettext_lazy("Guide parts")}


def kind_model(kind):
    return GuidePart if kind == PARTS else Procedure._meta.get_field(kind).related_model


def record_fields(model):
    """The fields a block's version holds: all but its own id and its page (or phase)."""
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in ("procedure", "phase")
    ]


def dump(record):
    data = {}
    for field in record_fields(type(record)):
        if field.is_relation:  # a part or reference of the same page: by its uid
            target = getattr(record, field.name)
            data[field.name] = target.uid if target else None
        else:
            data[field.name] = field.value_from_object(record)
    return data


def snapshot(procedure):
    """The page's content as JSON-ready data (dates and uids as text)."""
    page = {name: getattr(procedure, name) for name in PAGE_FIELDS}
    page["hero_image"] = procedure.hero_image.name or ""
    page["glossary_terms"] = sorted(procedure.glossary_terms.values_list("slug", flat=True))
    page["related"] = sorted(procedure.related.pages().values_list("pk", flat=True))
    content = {"page": page}
    for kind in KINDS:
        records = getattr(procedure, kind).all()
        if kind == "phases":
            records = records.prefetch_related("steps")
        content[kind] = [dump(record) for record in records]
        if kind == "phases":
            for data, phase in zip(content[kind], records, strict=True):
                data["steps"] = [dump(step) for step in phase.steps.all()]
    # One form for stored and fresh versions, so they compare equal.
    return json.loads(json.dumps(content, cls=DjangoJSONEncoder))


def build(model, data, found, **extra):
    """An unsaved record from its stored data; `found` maps {model: {uid: record}}."""
    values = {}
    for field in record_fields(model):
        if field.name not in data:
            continue  # a field added since this version: its default
        value = data[field.name]
        if field.is_relation:
            values[field.name] = found[field.related_model].get(value) if value else None
        else:
            values[field.attname] = field.to_python(value)
    return model(**values, **extra)


@transaction.atomic
def replace_content(procedure, content, new_uids=False):
    """Make `procedure` hold exactly `content`: its page fields, parts and blocks.

    Every old part and block is deleted and the stored ones created; with `new_uids`
    each gets a new identity (a new page rather than a version of this one)."""
    page = content["page"]
    for name in PAGE_FIELDS:
        if name in page:
            setattr(procedure, name, page[name])
    procedure.save()
    terms = GlossaryTerm.objects.filter(
        language=procedure.language, slug__in=page["glossary_terms"]
    )
    procedure.glossary_terms.set(terms)
    related = Procedure.objects.pages().filter(pk__in=page["related"]).exclude(pk=procedure.pk)
    procedure.related.set(related)

    # Risks point at references (RESTRICT): delete them first, then the rest.
    for kind in reversed(KINDS):
        getattr(procedure, kind).all().delete()
    found = {GuidePart: {}, Reference: {}}
    for kind in KINDS:
        model = kind_model(kind)
        records = [build(model, data, found, procedure=procedure) for data in content[kind]]
        if new_uids:
            for record in records:
                record.uid = uuid.uuid4()
        # bulk_create sets the new primary keys (PostgreSQL, SQLite 3.35+).
        model.objects.bulk_create(records)
        if model in found:
            found[model] = {
                str(data["uid"]): record
                for data, record in zip(content[kind], records, strict=True)
            }
        if kind == "phases":
            PhaseStep.objects.bulk_create(
                build(PhaseStep, step, found, phase=phase)
                for data, phase in zip(content[kind], records, strict=True)
                for step in data.get("steps", [])
            )
    return procedure


def free_slug(slug, language):
    """`slug`, or `slug-2`, `slug-3`...: the first no page in `language` uses."""
    taken = set(Procedure.objects.filter(language=language).values_list("slug", flat=True))
    candidate, n = slug, 1
    while candidate in taken:
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


@transaction.atomic
def copy_page(procedure, title=None):
    """A new page (never approved, not on the site) with a copy of `procedure`'s
    content: a start for another treatment's guide, in the same language. A translation
    is copied as a page of its own only through its English page."""
    if procedure.translation_of_id:
        raise ValueError("copy the English page, then add its translation")
    content = snapshot(procedure)
    title = title or _("Copy of %(title)s") % {"title": procedure.title}
    content["page"] = {**content["page"], "title": title[:120]}
    content["page"]["slug"] = free_slug(slugify(title)[:70] or "new-page", procedure.language)
    copy = Procedure(summary=procedure.summary, status=Procedure.Status.DRAFT)
    return replace_content(copy, content, new_uids=True)


@transaction.atomic
def start_translation(page, language):
    """The page's translation into `language`: a new page (never approved, not on the
    site) at the same address under the language's prefix, holding a copy of the
    page's parts and blocks for editors to rewrite one by one. The existing one if
    there is already one."""
    existing = page.translations.pages().filter(language=language).first()
    if existing is not None:
        return existing
    content = snapshot(page)
    content["page"] = {**content["page"], "glossary_terms": []}  # the language's own words
    translation = Procedure(
        language=language,
        translation_of=page,
        summary=page.summary,
        status=Procedure.Status.DRAFT,
    )
    return replace_content(translation, content, new_uids=True)


# Comparing two versions


EMPTY = gettext_lazy("(empty)")


def label(kind, data):
    """A block as an editor knows it: its heading, name or question."""
    model = kind_model(kind)
    plain = {
        field.attname: field.to_python(data[field.name])
        for field in record_fields(model)
        if not field.is_relation and field.name in data
    }
    return str(model(**plain))


def shown(field, value, names):
    """A stored value as text: a choice's label, a part's or source's name."""
    if value in (None, ""):
        return str(EMPTY)
    if field.is_relation:
        return names.get(value, str(EMPTY))
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def word_diff(old, new):
    """The new text with removed words struck through and added words marked; a text
    mostly rewritten reads better as the old struck through, then the new."""
    old_words, new_words = old.split(), new.split()
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    if matcher.ratio() < 0.5:
        return format_html("<del>{}</del> <ins>{}</ins>", old, new)
    out = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(escape(" ".join(old_words[a1:a2])))
            continue
        if a2 > a1:
            out.append(format_html("<del>{}</del>", " ".join(old_words[a1:a2])))
        if b2 > b1:
            out.append(format_html("<ins>{}</ins>", " ".join(new_words[b1:b2])))
    return mark_safe(" ".join(out))


def field_changes(model, old, new, names_old, names_new):
    rows = []
    fields = record_fields(model)
    for field in fields:
        if field.name == "uid" or old.get(field.name) == new.get(field.name):
            continue
        before = shown(field, old.get(field.name), names_old)
        after = shown(field, new.get(field.name), names_new)
        if before == after:  # the same part or source under another uid
            continue
        rows.append(
            {
                "field": str(field.verbose_name),
                "old": before,
                "new": after,
                "diff": word_diff(before, after),
            }
        )
    return rows


def names(content):
    """uid -> title, for the parts and references of one version."""
    return {
        data["uid"]: label(kind, data) for kind in (PARTS, "references") for data in content[kind]
    }


def steps_text(phase):
    return "\n".join(
        f"{step.get('title', '')}: {step.get('detail', '')}".rstrip(": ")
        for step in phase.get("steps", [])
    )


def changes(old, new):
    """What changed from version `old` to version `new` (snapshots; `old` None for a
    page with no approved version), grouped by kind of block in page order:
    [{"heading", "items": [{"label", "action", "fields": [{"field", "old", "new",
    "diff"}]}]}]. Unchanged blocks are left out."""
    empty = {"page": {}, **{kind: [] for kind in KINDS}}
    old = old or empty
    names_old, names_new = names(old), names(new)
    groups = []

    page_rows = []
    for name in [*PAGE_FIELDS, "glossary_terms", "related"]:
        before, after = old["page"].get(name), new["page"].get(name)
        if before == after:
            continue
        if isinstance(before, list) or isinstance(after, list):
            before = page_list(name, before or [])
            after = page_list(name, after or [])
        before, after = str(before or EMPTY), str(after or EMPTY)
        page_rows.append(
            {
                "field": page_label(name),
                "old": before,
                "new": after,
                "diff": word_diff(before, after),
            }
        )
    if page_rows:
        groups.append(
            {
                "heading": _("The page"),
                "items": [
                    {"label": new["page"]["title"], "action": "changed", "fields": page_rows}
                ],
            }
        )

    for kind in [PARTS, *(k.related_name for k in BLOCKS)]:
        model = kind_model(kind)
        before = {data["uid"]: data for data in old[kind]}
        after = {data["uid"]: data for data in new[kind]}
        items = []
        for uid, data in after.items():
            if uid not in before:
                items.append({"label": label(kind, data), "action": "added", "fields": []})
                continue
            rows = field_changes(model, before[uid], data, names_old, names_new)
            if kind == "phases" and steps_text(before[uid]) != steps_text(data):
                old_steps, new_steps = steps_text(before[uid]), steps_text(data)
                rows.append(
                    {
                        "field": str(PhaseStep._meta.verbose_name_plural),
                        "old": old_steps,
                        "new": new_steps,
                        "diff": word_diff(old_steps, new_steps),
                    }
                )
            if rows:
                items.append({"label": label(kind, data), "action": "changed", "fields": rows})
        items += [
            {"label": label(kind, data), "action": "removed", "fields": []}
            for uid, data in before.items()
            if uid not in after
        ]
        if items:
            heading = KIND_LABELS.get(kind) or model._meta.verbose_name_plural
            groups.append({"heading": str(heading).capitalize(), "items": items})
    return groups


def page_label(name):
    return str(Procedure._meta.get_field(name).verbose_name).capitalize()


def page_list(name, values):
    if name == "glossary_terms":
        found = dict(GlossaryTerm.objects.filter(slug__in=values).values_list("slug", "term"))
        return ", ".join(found.get(slug, slug) for slug in values)
    found = dict(Procedure.objects.filter(pk__in=values).values_list("pk", "title"))
    return ", ".join(found.get(pk, str(pk)) for pk in values)
