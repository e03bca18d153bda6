"""Load the demo page set (education/demo/*.toml) into the database.

Idempotent and respectful of editors: it only creates what is missing. A procedure
whose slug already exists, a glossary term whose anchor exists, or clinic settings
that were already saved are left exactly as they are, so running it again (as
`make run` does every time) never overwrites edits made in the admin. A page it
creates gets its first approved version (education.Revision), signed off by the
reviewer the file names.

A corrected demo reaches a fresh install by itself. An existing install takes it only
when someone asks by name: `--replace SLUG` deletes that procedure page (every block
of it) and loads it again from the demo file, and updates the glossary words the file
defines in place. The clinic settings are never replaced.

A file in another language says so at its top (`language = "es"`): its glossary words
are that language's, its `[clinic]` texts fill the clinic's fields for that language
(home_heading_es...) while they are empty, and each of its procedures names the page
it translates (`translation_of`, that page's address). Files in the site's own
language are loaded first.
"""

import tomllib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max

from education import workflow
from education.blocks import BLOCKS
from education.models import ClinicSettings, GlossaryTerm, GuidePart, PhaseStep, Procedure

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEFAULT = settings.LANGUAGE_CODE


class Command(BaseCommand):
    help = "Create the demo clinic settings, glossary and procedure pages where missing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--directory", type=Path, default=DEMO_DIR, help="Folder of demo content files."
        )
        parser.add_argument(
            "--replace",
            metavar="SLUG",
            action="append",
            default=[],
            help=(
                "Delete this procedure page and load it again from the demo files, with "
                "the glossary words they define. Edits made to it in the admin are lost."
            ),
        )

    @transaction.atomic
    def handle(self, *args, directory, replace, **options):
        files = [
            tomllib.loads(path.read_text(encoding="utf-8"))
            for path in sorted(directory.glob("*.toml"))
        ]
        # The site's own language first: translations point at its pages.
        files.sort(key=lambda data: data.get("language", settings.LANGUAGE_CODE) != DEFAULT)
        demo_slugs = {p["slug"] for data in files for p in data.get("procedures", [])}
        unknown = sorted(set(replace) - demo_slugs)
        if unknown:
            raise CommandError(
                f"No demo page has the address {', '.join(unknown)}. "
                f"Demo pages: {', '.join(sorted(demo_slugs))}."
            )
        replaced = []
        if replace:
            # With their translations (deleted with the page they translate).
            deleted, _by_model = Procedure.objects.filter(slug__in=replace).delete()
            replaced = [f"replaced {', '.join(replace)} ({deleted} records deleted first)"]
            for data in files:
                language = data.get("language", DEFAULT)
                for term in data.get("glossary", []):
                    # Updated in place: other pages may link to the same word.
                    GlossaryTerm.objects.update_or_create(
                        language=language, slug=term["slug"], defaults=term
                    )
        created = []
        for data in files:
            language = data.get("language", DEFAULT)
            created += self.load_clinic(data.get("clinic"), language)
            created += self.load_glossary(data.get("glossary", []), language)
            for procedure in data.get("procedures", []):
                created += self.load_procedure(procedure, language)
        created = replaced + created
        if created:
            self.stdout.write(self.style.SUCCESS(f"Demo content created: {', '.join(created)}."))
        else:
            self.stdout.write("Demo content already loaded; nothing changed.")

    def load_clinic(self, data, language):
        if not data:
            return []
        if language == DEFAULT:
            if ClinicSettings.objects.exists():
                return []
            ClinicSettings.objects.create(**data)
            return ["clinic settings"]
        # The clinic's texts in another language: only those still empty.
        clinic = ClinicSettings.objects.filter(pk=1).first()
        fields = [f"{name}_{language}" for name in data]
        empty = [name for name in fields if clinic and not getattr(clinic, name)]
        if not empty:
            return []
        for name, value in data.items():
            if f"{name}_{language}" in empty:
                setattr(clinic, f"{name}_{language}", value)
        clinic.save(update_fields=empty)
        return [f"clinic texts in {language}"]

    def load_glossary(self, terms, language):
        words = GlossaryTerm.objects.filter(language=language)
        existing = set(words.values_list("slug", flat=True))
        new = [
            GlossaryTerm(language=language, **term)
            for term in terms
            if term["slug"] not in existing
        ]
        GlossaryTerm.objects.bulk_create(new)
        return [f"{len(new)} glossary terms ({language})"] if new else []

    def load_procedure(self, data, language):
        """One procedure, its guide's parts and its blocks: the file's lists are named
        as the blocks are (education/blocks.py). A block's `part` (and a question's
        `answered_in`) names a part by its address; a reference's `key` lets a risk
        name its source; a phase carries its `steps`."""
        data = dict(data, language=language)
        if Procedure.objects.filter(language=language, slug=data["slug"]).exists():
            return []
        if "translation_of" in data:
            data["translation_of"] = Procedure.objects.pages().get(
                language=DEFAULT, slug=data["translation_of"]
            )
        blocks = {kind.related_name: data.pop(kind.related_name, []) for kind in BLOCKS}
        parts = data.pop("parts", [])
        terms = data.pop("glossary_terms", [])
        procedure = Procedure.objects.create(**data)
        procedure.glossary_terms.set(GlossaryTerm.objects.filter(language=language, slug__in=terms))
        by_slug = {
            part["slug"]: GuidePart.objects.create(procedure=procedure, order=order, **part)
            for order, part in enumerate(parts, start=1)
        }

        # References first: the risks point at them.
        by_key = {}
        kinds = sorted(BLOCKS, key=lambda kind: kind.related_name != "references")
        for kind in kinds:
            for order, item in enumerate(blocks[kind.related_name], start=1):
                item = dict(item)
                key, steps = item.pop("key", None), item.pop("steps", [])
                for name in ("part", "answered_in"):
                    if name in item:
                        item[name] = by_slug[item[name]]
                if "reference" in item:
                    item["reference"] = by_key.get(item["reference"])
                record = kind.model.objects.create(procedure=procedure, order=order, **item)
                by_key[key] = record
                PhaseStep.objects.bulk_create(
                    PhaseStep(phase=record, order=n, **step) for n, step in enumerate(steps, 1)
                )
        # Its first approved version, as the file's reviewer signed it off; a
        # translation, against the English page's version as it is now.
        workflow.keep_first_version(procedure)
        if procedure.translation_of_id:
            versions = procedure.translation_of.revisions.aggregate(last=Max("number"))
            procedure.source_version = versions["last"]
            procedure.save(update_fields=["source_version"])
        return [f"procedure “{procedure.title}” ({language})"]
