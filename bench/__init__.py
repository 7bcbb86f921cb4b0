"""The benchmark (issue #3): proves the CRM stays fast at a million customers.

    crm bench --scale small|medium|large --db URL [--runs N] [--skip-load]

- `generator`  realistic Chinese/English data at scale, loaded with COPY (PostgreSQL) or
               batched executemany (SQLite), secondary indexes built after the load.
- `scenarios`  the budget table of DESIGN.md that exists today, run through the real stack
               (Django's test client, in-process) as a department-scoped user.
- `floor`      the hand-written SQL of each scenario, timed the same way.
- `runner`     warm-up, timed runs, median/p95, query counts, rows returned.
- `report`     Markdown and JSON in bench/reports/, growth against the scale below.
"""

from dataclasses import dataclass

# The "large" data set of DESIGN.md's performance budgets, for the entities that exist today.
LARGE = {
    "customers": 1_000_000,
    "contacts": 2_000_000,  # 1-3 per customer, 2 on average
    "notes": 1_000_000,  # timeline notes, 0-2 per customer
    "audit": 1_000_000,  # one "created" audit entry per customer
}


@dataclass(frozen=True)
class Scale:
    name: str
    divisor: int  # 1/divisor of "large"
    runs: int  # default timed runs per scenario
    warmup: int

    @property
    def customers(self):
        return max(LARGE["customers"] // self.divisor, 60)

    def rows(self, table):
        return self.customers * LARGE[table] // LARGE["customers"]

    @property
    def below(self):
        """The scale one tenth of this one (for the growth check), if any."""
        for s in SCALES.values():
            if s.divisor == self.divisor * 10:
                return s
        return None


SCALES = {s.name: s for s in (
    Scale("tiny", 10_000, runs=2, warmup=1),  # the smoke test in the normal test suite
    Scale("small", 100, runs=20, warmup=3),  # CI smoke run (checks the harness, not timings)
    Scale("medium", 10, runs=30, warmup=5),
    Scale("large", 1, runs=30, warmup=5),
)}
