"""Delete intake submissions older than the clinic's retention period.

Dry run unless --yes is given. Notes and the access log go with each submission (cascade), and
the admin change-log entries that point at them are removed too. Access-log entries for list and
search pages older than the cut-off go as well: their search words can be patients' names.

Patients' questions asked before the cut-off go too, by the same rule: a question never
published is deleted; a published one keeps its text (the audit record of what was answered)
but loses the patient's name, email address and private reply. A question whose answer was
published and later withdrawn counts as published: patients read that answer, and the review
flags raised on it belong to the same record.
"""

from datetime import timedelta

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from questions.models import PatientQuestion, PublicAnswer, QuestionStatus
from screening.models import IntakeSubmission, SubmissionAccess


class Command(BaseCommand):
    help = "Delete intake submissions older than --older-than DAYS (a dry run without --yes)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument(
            "--yes", action="store_true", help="Really delete (otherwise only count)."
        )

    def handle(self, *args, older_than, yes, verbosity, **options):
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 day.")
        cutoff = timezone.now() - timedelta(days=older_than)
        with transaction.atomic():
            doomed = IntakeSubmission.objects.older_than(cutoff).select_for_update()
            ids = [str(pk) for pk in doomed.values_list("pk", flat=True)]
            if verbosity >= 2:
                for pk in ids:
                    self.stdout.write(f"  intake #{pk}")
            list_log = SubmissionAccess.objects.filter(submission__isnull=True, at__lt=cutoff)
            old_questions = PatientQuestion.objects.older_than(cutoff).select_for_update()
            ever_published = Q(status=QuestionStatus.PUBLISHED) | Q(
                pk__in=PublicAnswer.objects.filter(published_at__isnull=False).values("question")
            )
            doomed_questions = old_questions.exclude(ever_published)
            kept_questions = old_questions.filter(ever_published).exclude(
                name="", email="", private_reply=""
            )
            if not yes:
                self.stdout.write(
                    f"Dry run: {len(ids)} submission(s) submitted before "
                    f"{cutoff:%Y-%m-%d %H:%M} would be deleted, with {list_log.count()} "
                    f"list and search access-log entries, and {doomed_questions.count()} "
                    "patient question(s); the name and email address would be removed from "
                    f"{kept_questions.count()} published question(s). Add --yes to do it."
                )
                return
            log_deleted = list_log.delete()[0]
            content_type = ContentType.objects.get_for_model(IntakeSubmission)
            LogEntry.objects.filter(content_type=content_type, object_id__in=ids).delete()
            deleted = (
                IntakeSubmission.objects.filter(pk__in=ids)
                .delete()[1]
                .get(IntakeSubmission._meta.label, 0)
            )
            question_ids = [str(pk) for pk in doomed_questions.values_list("pk", flat=True)]
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(PatientQuestion),
                object_id__in=question_ids,
            ).delete()
            questions_deleted = (
                PatientQuestion.objects.filter(pk__in=question_ids)
                .delete()[1]
                .get(PatientQuestion._meta.label, 0)
            )
            questions_cleared = kept_questions.update(name="", email="", private_reply="")
        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Deleted {deleted} submission(s). Removed {log_deleted} list and search "
                    f"access-log entries. Deleted {questions_deleted} patient question(s) and "
                    f"removed the personal details of {questions_cleared} published one(s)."
                )
            )
