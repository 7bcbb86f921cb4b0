from django.core.management.base import BaseCommand

from crm.activities import reminders


class Command(BaseCommand):
    help = "Send due task, assignment, appointment and birthday reminders now (each at most once)."

    def handle(self, *args, **options):
        result = reminders.run_reminders()
        result["birthdays"] = reminders.send_birthday_reminders()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in result.items()))
