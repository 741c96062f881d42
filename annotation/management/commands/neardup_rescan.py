"""Rebuild a project's near-duplicate index from all its items and detect over it (maintenance).

    python manage.py neardup_rescan PROJECT_ID [PROJECT_ID ...]

Runs in this process (not queued). Open groups are merged and joined as a detection run would;
resolved groups are left as they are (docs/NEAR_DUPLICATES.md).
"""

import time

from django.core.management.base import BaseCommand

from annotation.neardup.services import near_duplicates_detect


class Command(BaseCommand):
    help = "Rebuild the near-duplicate index of the given projects and detect over all their items."

    def add_arguments(self, parser):
        parser.add_argument("project_ids", nargs="+", type=int)

    def handle(self, *args, **options):
        for project_id in options["project_ids"]:
            started = time.perf_counter()
            created = near_duplicates_detect(project_id=project_id, full=True)
            seconds = time.perf_counter() - started
            self.stdout.write(f"project {project_id}: {created} new groups in {seconds:.2f} s")
