"""Empty the public page cache (a folder, or this site's keys in Redis) by hand.

Content changes empty it by themselves; this is for after an outage of a shared Redis
during which an edit could not empty it, or after changing templates on a live site.
"""

from django.core.cache import caches
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Empty the public page cache: every page is rendered afresh on its next view."

    def handle(self, *args, **options):
        if caches["pages"].clear() is False:
            raise CommandError("The page cache could not be emptied: is Redis running?")
        self.stdout.write("The page cache is empty.")
