from django.core.management.base import BaseCommand
from django_q.models import Schedule

# name → (task, schedule type, minutes between runs for MINUTES schedules)
SCHEDULES = {
    "Dispatch the message queue": ("messaging.tasks.dispatch", Schedule.MINUTES, 1),
    "Reap stuck sends": ("messaging.tasks.reap", Schedule.MINUTES, 5),
    "Check LinkedIn token expiry": ("messaging.tasks.check_account_expiry", Schedule.DAILY, None),
    "Advance campaigns": ("campaigns.tasks.advance", Schedule.MINUTES, 5),
    "Recover stopped imports": ("contacts.tasks.recover_imports", Schedule.MINUTES, 5),
    "Deliver webhooks": ("linkedin_crm.tasks.deliver_webhooks", Schedule.MINUTES, 1),
    "Clean up old uploads and exports": ("contacts.tasks.clean_uploads", Schedule.HOURLY, None),
    "Prune old webhook events": ("linkedin_crm.tasks.prune_webhook_events", Schedule.DAILY, None),
}


class Command(BaseCommand):
    help = "Create or update the recurring django-q2 schedules (safe to run any number of times)."

    def handle(self, *args, **options):
        for name, (func, schedule_type, minutes) in SCHEDULES.items():
            _, created = Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": func,
                    "schedule_type": schedule_type,
                    "minutes": minutes,
                    "repeats": -1,
                },
            )
            self.stdout.write(f"{'Created' if created else 'Updated'} schedule: {name}")
