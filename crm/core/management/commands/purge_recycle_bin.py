from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Delete records that have been in the recycle bin longer than the retention "
            "(system parameter recycle_bin_retention_days; 0 keeps them forever).")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Override the retention in days.")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--enqueue", action="store_true", help="Run it in the task worker instead.")

    def handle(self, *args, days=None, batch_size=500, enqueue=False, **options):
        if enqueue:
            from crm.core.tasks import purge_recycle_bin

            result = purge_recycle_bin.enqueue(days=days)
            self.stdout.write(f"enqueued {result.id}")
            return
        from crm.core.entities.trash import purge_expired

        result = purge_expired(days=days, batch_size=batch_size)
        for key, counts in result.items():
            self.stdout.write(f"{key}: purged {counts['purged']}, skipped {counts['skipped']}")
        if not result:
            self.stdout.write("nothing to purge")
