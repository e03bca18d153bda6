"""Make the WebP copies of every picture in use, and record each page's picture size.

Pictures get their copies when an editor uploads them (education/images.py). This is
for pictures stored before that (an upgrade, demo content, files copied in by hand)
and after moving media to other storage:

    .venv/bin/python manage.py build_renditions

"In use": every page's and draft's picture and every approved version's (a reviewer
can restore one). Copies that exist are left alone (`--replace` makes them again).
A page whose picture size is not recorded gets it, read from the file, so drawing the
page never has to open it. Safe to run again, on any host; it changes nothing a
patient sees except pictures that were missing.

A picture that cannot be read is reported by its file name and the others are still
done; the command then ends with an error, so a scheduler or script notices.
"""

from django.core.management.base import BaseCommand, CommandError

from education import images
from education.models import Procedure, Revision


class Command(BaseCommand):
    help = "Make the WebP copies of every picture in use and record each page's picture size."

    def add_arguments(self, parser):
        parser.add_argument(
            "--replace", action="store_true", help="Make every copy again, even if it exists."
        )

    def handle(self, *args, replace, **options):
        names = set(Procedure.objects.exclude(hero_image="").values_list("hero_image", flat=True))
        names.update(Revision.objects.values_list("content__page__hero_image", flat=True))
        names.discard(None)
        names.discard("")
        made, failed = 0, []
        for name in sorted(names):
            try:
                made += images.make_renditions(name, replace=replace)
            except Exception as error:  # a missing or broken file: report it, go on
                failed.append(name)
                self.stderr.write(f"{name}: cannot be read ({type(error).__name__}).")

        # Pages (and drafts) whose picture size is not recorded yet: assigning the name
        # again makes Django read the size from the file (PictureField in models.py).
        sized = 0
        for page in Procedure.objects.exclude(hero_image="").filter(hero_image_width__isnull=True):
            page.hero_image = page.hero_image.name
            if page.hero_image_width:
                page.save(update_fields=["hero_image_width", "hero_image_height"])
                sized += 1
            elif page.hero_image.name not in failed:
                failed.append(page.hero_image.name)
                self.stderr.write(f"{page.hero_image.name}: its size cannot be read.")

        self.stdout.write(
            f"{len(names)} pictures in use: {made} copies made, {sized} page sizes recorded."
        )
        if failed:
            raise CommandError(
                f"{len(failed)} pictures could not be read (listed above): upload them again."
            )
