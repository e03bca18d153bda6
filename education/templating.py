"""The public templates' own filters and helpers (Jinja2; clinic_site/jinja2.py registers them).

Each returns either plain text, which Jinja2 escapes, or HTML it built from escaped
text, marked safe (Django's SafeString has `__html__`, so Jinja2 leaves it as it is).
"""

import logging

from django.utils.html import linebreaks
from django.utils.safestring import mark_safe
from jinja2 import pass_context, pass_environment
from markupsafe import escape

from education import images, phones
from education.models import Phase

logger = logging.getLogger(__name__)


@pass_context
def linkterms(context, text, linker=None):
    """Editor text as HTML: escaped; with a TermLinker, the page's first use of each
    glossary word linked; clinic phone tokens and 911 as tap-to-call links
    (education/phones.py) to the numbers in the page's `clinic` settings."""
    return phones.with_phone_links(text, context.get("clinic"), linker or escape)


@pass_context
def paragraphs(context, text, linker=None):
    """Plain text with empty lines between paragraphs, as HTML paragraphs (as linkterms)."""
    return mark_safe(linebreaks(linkterms(context, text, linker), autoescape=False))


def grouped(items, attribute):
    """Consecutive items sharing a value, as (value, [items]) pairs, order kept.

    (Jinja2's own `groupby` sorts first; the page keeps the editor's order.)
    """
    groups = []
    for item in items:
        value = getattr(item, attribute)
        if groups and groups[-1][0] == value:
            groups[-1][1].append(item)
        else:
            groups.append((value, [item]))
    return groups


def compare_rows(phases):
    """The phases' compared attributes as table rows: one row per attribute that some
    phase fills in (a treatment whose stages differ in other ways leaves them empty)."""
    return [
        {
            "label": Phase._meta.get_field(name).verbose_name,
            "values": [{"phase": phase, "text": getattr(phase, name)} for phase in phases],
        }
        for name in Phase.COMPARED_FIELDS
        if any(getattr(phase, name) for phase in phases)
    ]


@pass_environment
def picture(environment, image, alt, css_class="", lazy=False):
    """An uploaded picture as WebP at the size shown, with its width and height set
    (drawn by education/blocks/picture.html).

    `lazy` for pictures below the fold; the main picture loads at once.

    Never raises: a picture that cannot be shown (no file, its size unknown, a shape no
    copy fits, storage that does not answer) is left out, the page drawn without it and
    a warning logged with the file's name. Opens no file: education/images.py.
    """
    if not image:
        return ""
    try:
        sizes = images.renditions(image)
    except Exception:  # whatever the storage backend raises: the page comes first
        logger.warning("Picture %s not shown: its addresses could not be made.", image.name)
        return ""
    if not sizes:
        return ""
    url, width, height = sizes[-1]
    return mark_safe(
        environment.get_template("education/blocks/picture.html").render(
            src=url,
            srcset=", ".join(f"{u} {w}w" for u, w, _ in sizes),
            sizes=images.SIZES,
            width=width,
            height=height,
            alt=alt,
            css_class=css_class,
            lazy=lazy,
        )
    )
