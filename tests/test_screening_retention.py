"""purge_submissions: dry run by default, --yes deletes what is older than the cut-off."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.utils import timezone

from screening.models import AccessKind, IntakeSubmission, SubmissionAccess, SubmissionNote

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("screening_cache")]


@pytest.fixture
def old_and_new(submit, clinician):
    submit(full_name="Old One")
    submit(full_name="Old Two")
    submit(full_name="Recent")
    old = IntakeSubmission.objects.exclude(full_name="Recent")
    old.update(submitted_at=timezone.now() - timedelta(days=400))
    for submission in old:
        SubmissionNote.objects.create(submission=submission, author=clinician, text="note")
        SubmissionAccess.objects.create(submission=submission, user=clinician)
        LogEntry.objects.create(
            user=clinician,
            content_type=ContentType.objects.get_for_model(IntakeSubmission),
            object_id=str(submission.pk),
            object_repr=str(submission),
            action_flag=CHANGE,
        )


def run(*args):
    out = StringIO()
    call_command("purge_submissions", *args, stdout=out)
    return out.getvalue()


def test_dry_run_counts_and_deletes_nothing(old_and_new):
    output = run("--older-than", "365")
    assert "Dry run: 2 submission(s)" in output
    assert IntakeSubmission.objects.count() == 3


def test_yes_deletes_old_submissions_with_their_notes_access_log_and_history(old_and_new):
    output = run("--older-than", "365", "--yes")
    assert "Deleted 2 submission(s)." in output
    assert list(IntakeSubmission.objects.values_list("full_name", flat=True)) == ["Recent"]
    assert not SubmissionNote.objects.exists()
    assert not SubmissionAccess.objects.exists()
    assert not LogEntry.objects.exists()


def test_verbose_lists_references_and_quiet_prints_nothing(old_and_new):
    assert "intake #" in run("--older-than", "365", "-v", "2")
    out = StringIO()
    call_command("purge_submissions", "--older-than", "365", "--yes", verbosity=0, stdout=out)
    assert out.getvalue() == ""
    assert IntakeSubmission.objects.count() == 1


def test_nothing_old_enough(old_and_new):
    assert "Deleted 0 submission(s)." in run("--older-than", "1000", "--yes")
    assert IntakeSubmission.objects.count() == 3


def test_older_than_is_required_and_positive():
    with pytest.raises(CommandError):
        call_command("purge_submissions")
    with pytest.raises(CommandError, match="at least 1 day"):
        call_command("purge_submissions", "--older-than", "0")


def test_purge_is_all_or_nothing(old_and_new, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("django.db.models.query.QuerySet.delete", explode)
    with pytest.raises(RuntimeError):
        run("--older-than", "365", "--yes")
    monkeypatch.undo()
    assert IntakeSubmission.objects.count() == 3
    assert LogEntry.objects.count() == 2


def test_old_list_and_search_log_entries_go_too(old_and_new, clinician):
    SubmissionAccess.objects.create(user=clinician, kind=AccessKind.SEARCHED, query="q=Old One")
    SubmissionAccess.objects.filter(submission=None).update(at=timezone.now() - timedelta(days=400))
    recent = SubmissionAccess.objects.create(user=clinician, kind=AccessKind.LISTED)
    assert "with 1 list and search access-log entries" in run("--older-than", "365")
    assert SubmissionAccess.objects.filter(submission=None).count() == 2
    assert "Removed 1 list and search access-log entries." in run("--older-than", "365", "--yes")
    assert list(SubmissionAccess.objects.filter(submission=None)) == [recent]
