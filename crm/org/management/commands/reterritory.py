from django.core.management.base import BaseCommand

from crm.org.territories import reterritory


class Command(BaseCommand):
    help = "Match every customer and lead not fixed by hand to its territory again (SAL-9)."

    def handle(self, *args, **options):
        moved = reterritory()
        for label, n in moved.items():
            self.stdout.write(f"{label}: {n}")
