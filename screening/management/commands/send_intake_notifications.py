"""Queue the staff email again for submissions whose notification never went out.

Normally the notification is queued with the submission and sent by `manage.py db_worker`. This
catches the rare case where queueing itself failed, or every retry failed (for example a long
mail outage). Safe to run from cron: it skips a submission whose email is still waiting in the
queue (a retry included) or is being sent, and the task itself claims the submission before
sending, so two tasks for one submission send one email. Run it every few minutes: by default it
looks at submissions older than 5 minutes (INTAKE_NOTIFY_CATCH_UP_MINUTES).
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Q
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from screening.models import IntakeSubmission
from screening.tasks import claim_lease, notify_new_submission
from screening.worker import requeue_stale_tasks


def queued_submission_ids() -> set[int]:
    """Submissions with a notification task still waiting to run (retries scheduled later too)."""
    waiting = DBTaskResult.objects.filter(
        task_path=notify_new_submission.module_path, status=TaskResultStatus.READY
    ).values_list("args_kwargs", flat=True)
    return {args_kwargs["args"][0] for args_kwargs in waiting if args_kwargs.get("args")}


class Command(BaseCommand):
    help = "Re-queue notification emails for submissions not yet announced to staff."

    def add_arguments(self, parser):
        parser.add_argument(
            "--min-age",
            type=int,
            default=settings.INTAKE_NOTIFY_CATCH_UP_MINUTES,
            metavar="MINUTES",
            help="Only submissions at least this old (default: INTAKE_NOTIFY_CATCH_UP_MINUTES, 5).",
        )

    def handle(self, *args, min_age, verbosity, **options):
        now = timezone.now()
        # A task its worker never finished (a crash) is queued again first, so the check below
        # sees it as waiting rather than starting a second chain for its submission.
        if (requeued := requeue_stale_tasks(now)) and verbosity >= 1:
            self.stdout.write(f"Requeued {requeued} task(s) left running past their lease.")
        pending = (
            IntakeSubmission.objects.filter(
                notified_at__isnull=True, submitted_at__lte=now - timedelta(minutes=min_age)
            )
            .filter(
                Q(notify_claimed_at__isnull=True) | Q(notify_claimed_at__lt=now - claim_lease())
            )
            .values_list("pk", flat=True)
        )
        queued = queued_submission_ids()
        count = 0
        for pk in pending:
            if pk in queued:
                continue
            notify_new_submission.enqueue(pk)
            count += 1
        if verbosity >= 1:
            self.stdout.write(f"Queued {count} notification(s).")
