"""Uploaded pictures: checked, stored under their content's name, served as WebP copies.

- `check_upload()` refuses, with a message an editor can act on, a file that is too
  big, not a picture, too many pixels, or a shape whose copies WebP cannot hold (a
  4000 x 1 strip would make a copy 0 pixels high; a 400 x 20000 one, copies taller
  than WebP's 16383 pixels).
- `store()` saves an upload as `procedures/<sha256 of its content>.<ext>` and makes its
  WebP copies (`renditions/procedures/<same>-<width>.webp`) at once. A new picture
  therefore always has new addresses, however its file was called, and the addresses
  never change while the page shows them (the page is cached for hours; S3 copies are
  cached for a year).
- `renditions()` gives the copies' addresses from the name and the width and height
  kept on the page, without opening any file or asking the storage anything: over S3
  each of those would be a network round trip while a page is drawn.
- `remove_unused()` deletes a picture and its copies once nothing refers to it (the
  rule is in `in_use()`).

It works through Django's storage API only (default_storage): the local disk, or
S3-compatible object storage when configured (clinic_site/settings.py).
"""

import hashlib
import logging
import warnings
from io import BytesIO
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from .models import Procedure, Revision

logger = logging.getLogger(__name__)

WIDTHS = (360, 720, 1080, 1440)
# The picture fills the text column: the full phone width, at most 46rem (828 px) wide.
SIZES = "(min-width: 50rem) 46rem, 100vw"
FOLDER = "procedures"  # the field's upload_to

# Limits for an upload. With each side at least MIN_SIDE and the long side at most
# MAX_RATIO times the short one, every copy is at least 72 px and at most 7200 px on
# each side: always within WebP's 16383 px.
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 megapixels: more than any phone camera; under Pillow's guard
MIN_SIDE = 200
MAX_RATIO = 5
# Pillow's name for the format -> the stored file's extension. MPO is how Pillow reads
# many phone cameras' JPEGs.
EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp"}
WEBP_QUALITY = 80

UPLOAD_HELP = gettext_lazy(
    "A photo or drawing as JPEG, PNG or WebP, up to 10 MB, at least 200 pixels wide and "
    "high, and no more than 5 times as wide as it is high (or as high as it is wide)."
)


def rendition_name(name, width):
    path = PurePosixPath(name)
    return f"renditions/{path.parent}/{path.stem}-{width}.webp"


def rendition_sizes(width, height):
    """[(width, height)] of the copies of a `width` x `height` picture, narrowest first:
    never wider than the original, nor than the widest the page needs."""
    widths = sorted({w for w in WIDTHS if w < width} | {min(width, WIDTHS[-1])})
    return [(w, round(height * w / width)) for w in widths]


def shape_problem(width, height):
    """Why a picture of this size cannot be shown (a message for the editor), or None."""
    if width * height > MAX_PIXELS:
        return _(
            "This picture has %(megapixels)s million pixels; the limit is %(limit)s "
            "million. Save it smaller (2000 pixels wide is plenty) and upload it again."
        ) % {"megapixels": round(width * height / 1_000_000), "limit": MAX_PIXELS // 1_000_000}
    if min(width, height) < MIN_SIDE:
        return _(
            "This picture is %(width)s x %(height)s pixels: too small to show clearly. "
            "Use one at least %(min)s pixels wide and high."
        ) % {"width": width, "height": height, "min": MIN_SIDE}
    if max(width, height) > MAX_RATIO * min(width, height):
        return _(
            "This picture is %(width)s x %(height)s pixels: too long and thin to show on "
            "the page. Crop it so that it is no more than %(ratio)s times as wide as it is "
            "high (or as high as it is wide)."
        ) % {"width": width, "height": height, "ratio": MAX_RATIO}
    return None


def not_a_picture():
    return ValidationError(
        _(
            "This file is not a picture the site can use. Upload a photo or drawing saved "
            "as JPEG, PNG or WebP."
        ),
        code="invalid_image",
    )


def check_upload(file):
    """Refuse an upload the page could not show; returns its stored extension.

    Reads the file's header first (Pillow opens lazily), so a file that claims too many
    pixels is refused before any is decoded; then checks the whole file decodes.
    Raises ValidationError with a plain message."""
    if file.size > MAX_BYTES:
        raise ValidationError(
            _("This file is %(size)s; the limit is %(limit)s. Save it smaller and try again.")
            % {"size": filesizeformat(file.size), "limit": filesizeformat(MAX_BYTES)},
            code="file_size",
        )
    file.seek(0)
    try:
        # Pillow warns above about 89 million pixels and refuses above twice that (its
        # guard against "decompression bombs": a small file that unpacks into gigabytes).
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as picture:
                kind, (width, height) = picture.format, picture.size
                if kind not in EXTENSIONS:
                    raise not_a_picture()
                problem = shape_problem(width, height)
                if problem:
                    raise ValidationError(problem, code="picture_size")
                # Decode every pixel (at most MAX_PIXELS): a cut-off or damaged file is
                # refused here, not when its copies are made.
                picture.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            _(
                "This picture has far too many pixels to use. Save it smaller (2000 pixels "
                "wide is plenty) and upload it again."
            ),
            code="picture_size",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_a_picture() from None
    finally:
        file.seek(0)
    return EXTENSIONS[kind]


def upright(data):
    """The picture's bytes with any camera rotation (EXIF orientation) applied, so the
    copies, which keep no EXIF, stand the same way up as the original. Unchanged when
    the picture has none."""
    with Image.open(BytesIO(data)) as picture:
        orientation = picture.getexif().get(0x0112, 1)  # 0x0112: EXIF "Orientation"
        if orientation == 1:
            return data
        turned = ImageOps.exif_transpose(picture)
        buffer = BytesIO()
        kind = "JPEG" if picture.format == "MPO" else picture.format
        turned.save(buffer, kind, **({"quality": 90} if kind == "JPEG" else {}))
        return buffer.getvalue()


def store(file):
    """Check an upload, save it as `procedures/<content hash>.<ext>` and make its WebP
    copies now. Returns the stored name, to assign to the picture field. The same
    picture uploaded twice is kept once."""
    extension = check_upload(file)
    data = upright(file.read())
    name = f"{FOLDER}/{hashlib.sha256(data).hexdigest()[:32]}.{extension}"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(data))
    make_renditions(name)
    return name


def make_renditions(name, replace=False):
    """Make the WebP copies of a stored picture that do not exist yet (all of them with
    `replace`). Returns how many were made. Raises when the picture cannot be read."""
    with default_storage.open(name, "rb") as file:
        source = Image.open(file)
        source.load()
    wanted = []
    for width, height in rendition_sizes(*source.size):
        target = rendition_name(name, width)
        if default_storage.exists(target):
            if not replace:
                continue
            default_storage.delete(target)  # the local disk would save beside it
        wanted.append((target, width, height))
    if wanted:
        source = source.convert("RGBA" if source.mode in ("RGBA", "LA", "P") else "RGB")
    for target, width, height in wanted:
        buffer = BytesIO()
        # reducing_gap: shrink by whole factors first (much faster on a 12 MP photo, the
        # same to the eye at these sizes).
        source.resize((width, height), Image.LANCZOS, reducing_gap=3.0).save(
            buffer, "WEBP", quality=WEBP_QUALITY
        )
        default_storage.save(target, ContentFile(buffer.getvalue()))
    return len(wanted)


def renditions(image):
    """[(url, width, height)] of the WebP copies of `image` (a picture field's file),
    narrowest first; [] (with a warning in the log) for a picture that cannot be shown.

    Uses only the name and the width and height kept with it: no file is opened and
    the storage is not asked whether the copies exist (they were made at upload, or by
    `manage.py build_renditions`)."""
    width = getattr(image.instance, image.field.width_field)
    height = getattr(image.instance, image.field.height_field)
    if not (width and height):
        logger.warning("Picture %s not shown: its size is unknown.", image.name)
        return []
    if shape_problem(width, height):
        logger.warning("Picture %s not shown: %s x %s pixels.", image.name, width, height)
        return []
    return [
        (image.storage.url(rendition_name(image.name, w)), w, h)
        for w, h in rendition_sizes(width, height)
    ]


# Removing pictures nothing uses any more.


def in_use(name):
    """True while anything may still show the picture `name`. The rule: a picture is
    kept while any page refers to it (on the site or not, a draft of a live page
    included: a draft starts with its page's picture), or any approved version of any
    page does (a reviewer can restore it, and approved versions are kept as long as
    their page is). So only a picture that was uploaded and replaced before anyone
    approved it, or whose every page and version is gone, is ever removed."""
    return (
        Procedure.objects.filter(hero_image=name).exists()
        or Revision.objects.filter(content__page__hero_image=name).exists()
    )


def page_pictures(procedure):
    """Every picture name `procedure` refers to: its own, its draft's and its approved
    versions' (they go with it when it is deleted)."""
    names = {procedure.hero_image.name}
    names.update(Procedure.objects.filter(draft_of=procedure).values_list("hero_image", flat=True))
    names.update(procedure.revisions.values_list("content__page__hero_image", flat=True))
    return {name for name in names if name}


def copies_of(name):
    """The names of the WebP copies a stored picture has: its size says which widths
    (the file's header is read; only when removing it, never while drawing a page)."""
    try:
        with default_storage.open(name, "rb") as file, Image.open(file) as picture:
            widths = [width for width, _height in rendition_sizes(*picture.size)]
    except Exception:  # already gone, or not a picture: every width it might have had
        widths = WIDTHS
    return [rendition_name(name, width) for width in widths]


def remove_unused(names):
    """Once the current transaction commits: delete each picture in `names` that nothing
    uses any more (see in_use()), with its WebP copies."""
    names = [name for name in names if name]

    def remove():
        for name in names:
            if in_use(name):
                continue
            for path in [*copies_of(name), name]:
                try:
                    default_storage.delete(path)
                except Exception:  # storage not answering: the file stays, unused
                    logger.warning("Picture file %s could not be removed.", path)
            logger.info("Picture %s removed: nothing uses it any more.", name)

    if names:
        transaction.on_commit(remove)
