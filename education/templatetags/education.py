from django import template
from django.utils.html import escape, linebreaks
from django.utils.safestring import mark_safe

from education import images
from education.models import Phase

register = template.Library()


@register.filter
def linkterms(text, linker=None):
    """Escaped text; with a TermLinker, the page's first use of each glossary word is linked."""
    return linker(text) if linker else escape(text)


@register.filter
def paragraphs(text, linker=None):
    """Plain text with empty lines between paragraphs, as HTML paragraphs (terms linked)."""
    return mark_safe(linebreaks(linkterms(text, linker), autoescape=False))


@register.filter
def grouped(items, attribute):
    """Consecutive items sharing a value, as (value, [items]) pairs, order kept."""
    groups = []
    for item in items:
        value = getattr(item, attribute)
        if groups and groups[-1][0] == value:
            groups[-1][1].append(item)
        else:
            groups.append((value, [item]))
    return groups


@register.filter
def compare_rows(phases):
    """The phases' compared attributes as table rows: one row per attribute."""
    return [
        {
            "label": Phase._meta.get_field(name).verbose_name,
            "values": [{"phase": phase, "text": getattr(phase, name)} for phase in phases],
        }
        for name in Phase.COMPARED_FIELDS
    ]


@register.filter
def tel_href(phone):
    """A phone number as written on the page, as the digits a tel: link needs."""
    phone = str(phone)
    return ("+" if phone.strip().startswith("+") else "") + "".join(c for c in phone if c.isdigit())


@register.inclusion_tag("education/blocks/picture.html")
def picture(image, alt, css_class="", lazy=False):
    """An uploaded picture as WebP at the size shown, with its width and height set.

    `lazy` for pictures below the fold; the main picture loads at once.
    """
    sizes = images.renditions(image)
    url, width, height = sizes[-1]
    return {
        "src": url,
        "srcset": ", ".join(f"{u} {w}w" for u, w, _ in sizes),
        "sizes": images.SIZES,
        "width": width,
        "height": height,
        "alt": alt,
        "css_class": css_class,
        "lazy": lazy,
    }
