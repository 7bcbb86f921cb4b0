from .run_scheduler import Command as RunScheduler


class Command(RunScheduler):
    """`crm scheduler`: the same as `run_scheduler`."""
