"""Pictures served at the size they are shown: WebP copies at a few widths, for srcset.

Copies are made the first time a page needs them and kept next to the uploads
(`renditions/`); the page itself is then cached, so this runs once per picture.
"""

from io import BytesIO
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

WIDTHS = (360, 720, 1080, 1440)
# The picture fills the text column: the full phone width, at most 46rem (828 px) wide.
SIZES = "(min-width: 50rem) 46rem, 100vw"


def rendition_name(name, width):
    path = PurePosixPath(name)
    return f"renditions/{path.parent}/{path.stem}-{width}.webp"


def renditions(image):
    """[(url, width, height)] for `image` (an ImageField file), narrowest first.

    Never wider than the original, nor than twice the widest the page shows it.
    """
    original_width, original_height = image.width, image.height
    widths = sorted({w for w in WIDTHS if w < original_width} | {min(original_width, WIDTHS[-1])})
    result = []
    source = None
    for width in widths:
        name = rendition_name(image.name, width)
        height = round(original_height * width / original_width)
        if not default_storage.exists(name):
            if source is None:
                with image.open("rb") as file:
                    source = Image.open(file)
                    source.load()
                source = source.convert("RGBA" if source.mode in ("RGBA", "LA", "P") else "RGB")
            buffer = BytesIO()
            source.resize((width, height), Image.LANCZOS).save(buffer, "WEBP", quality=80)
            default_storage.save(name, ContentFile(buffer.getvalue()))
        result.append((default_storage.url(name), width, height))
    return result
