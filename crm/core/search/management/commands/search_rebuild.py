"""`crm search_rebuild [--entity KEY ...]`: rebuild the global search index in bulk."""

from django.core.management.base import BaseCommand, CommandError

from crm.core.search.index import rebuild


class Command(BaseCommand):
    help = "Rebuild the global search index of every searchable entity (or only --entity KEY)."

    def add_arguments(self, parser):
        parser.add_argument("--entity", action="append", help="entity key, e.g. customers (repeatable)")
        parser.add_argument("--workers", type=int, default=1,
                            help="processes writing the index (PostgreSQL; searches see a partial index until the "
                                 "end, unlike the default single transaction)")

    def handle(self, *args, **opts):
        keys = opts["entity"] or None
        try:
            counts = rebuild(keys, stream=self.stderr if opts["verbosity"] > 1 else None, workers=max(opts["workers"], 1))
        except LookupError as exc:
            raise CommandError(f"not a searchable entity: {exc}")
        seconds = counts.pop("seconds")
        total = sum(counts.values())
        for key, n in counts.items():
            self.stdout.write(f"{key}: {n:,}")
        rate = f" ({total / seconds:,.0f} rows/s)" if seconds else ""
        self.stdout.write(f"Indexed {total:,} records in {seconds:,.1f} s{rate}.")
