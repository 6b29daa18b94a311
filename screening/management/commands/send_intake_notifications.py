"""Queue the staff email again for submissions whose notification never went out.

Normally the notification is queued with the submission and sent by `manage.py db_worker`. This
catches the rare case where queueing itself failed, or every retry failed (for example a long
mail outage). Safe to run from cron: the task sends nothing for a submission already notified.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from screening.models import IntakeSubmission
from screening.tasks import notify_new_submission


class Command(BaseCommand):
    help = "Re-queue notification emails for submissions not yet announced to staff."

    def add_arguments(self, parser):
        parser.add_argument(
            "--min-age",
            type=int,
            default=60,
            metavar="MINUTES",
            help="Only submissions at least this old (gives the normal retries time).",
        )

    def handle(self, *args, min_age, verbosity, **options):
        cutoff = timezone.now() - timedelta(minutes=min_age)
        pending = IntakeSubmission.objects.filter(
            notified_at__isnull=True, submitted_at__lte=cutoff
        ).values_list("pk", flat=True)
        count = 0
        for pk in pending:
            notify_new_submission.enqueue(pk)
            count += 1
        if verbosity >= 1:
            self.stdout.write(f"Queued {count} notification(s).")
