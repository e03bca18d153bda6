"""The patients' words in Spanish: `make messages`, and what the translation test reads.

`python scripts/messages.py` (make messages):
1. collects every string marked for translation in the files locale/babel.cfg names
   (the public templates, Jinja2 {% trans %} blocks included, and the Python files whose
   words patients see) with Babel, which reads Jinja2 templates (Django's makemessages
   does not);
2. merges them into the Spanish catalog, locale/es/LC_MESSAGES/django.po: a new string
   comes in with no Spanish, a string whose English changed comes in marked "fuzzy"
   with the old Spanish for a translator to check, a string no longer used goes;
3. compiles django.mo, the file Django reads (kept in the repository with the .po).

tests/test_translations.py fails while a Spanish message is missing or fuzzy, or
django.mo is older than django.po.

Standard library and Babel (a development tool: production reads the compiled .mo).
"""

import os
import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
MAPPING = LOCALE / "babel.cfg"
LANGUAGES = ["es"]
# Django's names for gettext, besides the ones Babel knows (_, gettext, ngettext, ...).
KEYWORDS = ["gettext_lazy", "ngettext_lazy:1,2", "pgettext_lazy:1c,2"]
# One width everywhere, so a catalog written by any step reads the same.
WIDTH = "100"


def pybabel(*arguments):
    CommandLineInterface().run(["pybabel", "--quiet", *arguments])


def extract(template_path):
    """Write every marked string of the site to `template_path` (a .pot file).

    Locations name the file only: the translator sees where a string is used, and a
    line moving in the code does not change the catalog."""
    keywords = [part for keyword in KEYWORDS for part in ("-k", keyword)]
    os.chdir(ROOT)  # locations relative to the project: "templates/base.html"
    pybabel(
        "extract",
        "-F",
        str(MAPPING),
        *keywords,
        "--add-location=file",
        "--width",
        WIDTH,
        "--project",
        "Clinic website",
        "-o",
        str(template_path),
        ".",
    )


def catalog_path(language):
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def update():
    with tempfile.TemporaryDirectory() as work:
        template = Path(work) / "django.pot"
        extract(template)
        for language in LANGUAGES:
            pybabel(
                "update",
                "-D",
                "django",
                "-i",
                str(template),
                "-d",
                str(LOCALE),
                "-l",
                language,
                "--init-missing",
                "--ignore-obsolete",
                "--width",
                WIDTH,
            )
    compile_catalogs()


def compile_catalogs():
    """django.po to django.mo for each language (fuzzy messages left out, as Django would
    show them in English)."""
    for language in LANGUAGES:
        pybabel("compile", "-D", "django", "-d", str(LOCALE), "-l", language, "--statistics")


if __name__ == "__main__":
    if sys.argv[1:] not in ([], ["--compile"]):
        sys.exit("usage: python scripts/messages.py [--compile]")
    compile_catalogs() if sys.argv[1:] else update()
