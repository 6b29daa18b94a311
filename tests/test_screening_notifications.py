"""Staff notification emails: queued with the submission, sent by the worker, no health data."""

import signal
import smtplib
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clinic.models import ClinicDetails
from screening import tasks
from screening.models import IntakeSubmission
from screening.tasks import claim_lease, notify_new_submission

# Transactional: the worker sees only committed rows and closes its connections, as in production.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("screening_cache"),
]

TASK = "screening.tasks.notify_new_submission"
PERSONAL = [
    "Pat Patient",
    "pat@example.com",
    "01632 960123",
    "1985",
    "saddle",
    "numbness",
    "Walking",
]


@pytest.fixture(autouse=True)
def intake_address():
    details = ClinicDetails.load()
    details.intake_email = "intake@clinic.example"
    details.save()


def run_worker():
    """Run the queued tasks in this process, then put back the signal handlers the worker
    installs: left in place, Ctrl+C or SIGTERM would no longer stop the test run."""
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)
    handlers = {sig: signal.getsignal(sig) for sig in signals}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def urgent_submission(submit):
    response = submit(full_name="Pat Patient", email="pat@example.com", q_saddle_numbness="yes")
    assert response.status_code == 302
    return IntakeSubmission.objects.get()


def test_submission_queues_one_email_that_the_worker_sends(submit, settings):
    settings.SITE_URL = "https://clinic.example"
    submission = urgent_submission(submit)
    task = DBTaskResult.objects.get()
    assert task.task_path == TASK
    assert task.args_kwargs == {"args": [submission.pk], "kwargs": {}}
    assert mail.outbox == []  # nothing is sent inside the request
    run_worker()
    [email] = mail.outbox
    assert email.to == ["intake@clinic.example"]
    assert "Urgent" in email.subject
    assert (
        f"https://clinic.example/admin/screening/intakesubmission/{submission.pk}/change/"
        in email.body
    )
    submission.refresh_from_db()
    assert submission.notified_at is not None


def test_email_carries_no_personal_or_health_details(submit):
    urgent_submission(submit)
    run_worker()
    [email] = mail.outbox
    text = email.subject + email.body
    for detail in PERSONAL:
        assert detail.lower() not in text.lower(), detail
    for explanation in IntakeSubmission.objects.get().flags:
        assert explanation["explanation"] not in text


def test_a_resend_with_more_urgent_answers_before_the_email_goes_is_in_the_email(
    client, intake_data
):
    data = intake_data()
    assert client.post("/intake/", data).status_code == 302  # routine
    assert client.post("/intake/", {**data, "q_bladder_bowel": "yes"}).status_code == 302
    submission = IntakeSubmission.objects.get()
    assert (submission.outcome, submission.escalated_outcome) == ("routine", "urgent")
    run_worker()
    [email] = mail.outbox  # one email: the second task finds it sent
    assert email.subject == f"Intake form #{submission.pk}: now Urgent (answers sent again)"
    assert "Triage outcome: Urgent (first sent as Routine)" in email.body
    assert "seek urgent medical care now" in email.body


def test_a_resend_with_more_urgent_answers_after_the_email_went_is_emailed_too(client, intake_data):
    data = intake_data()
    assert client.post("/intake/", data).status_code == 302
    run_worker()
    [first] = mail.outbox
    assert first.subject.endswith(": Routine")
    assert client.post("/intake/", {**data, "q_saddle_numbness": "yes"}).status_code == 302
    run_worker()
    [_first, second] = mail.outbox
    submission = IntakeSubmission.objects.get()
    assert second.subject == f"Intake form #{submission.pk}: now Urgent (answers sent again)"
    for detail in PERSONAL:
        assert detail.lower() not in (second.subject + second.body).lower(), detail
    submission.refresh_from_db()
    assert submission.notified_at is not None
    # The same resend again (a double click) sends nothing more.
    client.post("/intake/", {**data, "q_saddle_numbness": "yes"})
    run_worker()
    assert len(mail.outbox) == 2


def test_an_email_being_sent_when_answers_turn_urgent_is_followed_by_one_that_says_so(
    client, intake_data
):
    data = intake_data()
    assert client.post("/intake/", data).status_code == 302
    submission = IntakeSubmission.objects.get()
    claimed_at = tasks.claim(submission.pk)  # a worker is sending the routine email now
    assert client.post("/intake/", {**data, "q_saddle_numbness": "yes"}).status_code == 302
    tasks.record_sent(submission.pk, timezone.now(), claimed_at)  # that send finishes
    submission.refresh_from_db()
    assert submission.notified_at is None  # it does not count as the last word
    run_worker()
    subjects = [email.subject for email in mail.outbox]
    assert subjects == [f"Intake form #{submission.pk}: now Urgent (answers sent again)"]


def test_failed_send_loses_nothing_and_is_retried(submit):
    submission = urgent_submission(submit)
    with mock.patch("screening.tasks.send_mail", side_effect=smtplib.SMTPException("mail down")):
        run_worker()
    assert mail.outbox == []
    assert IntakeSubmission.objects.filter(pk=submission.pk, notified_at__isnull=True).exists()
    failed = DBTaskResult.objects.get(status="FAILED")
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs["args"] == [submission.pk, 2]
    assert retry.run_after > timezone.now()
    assert failed.task_path == retry.task_path == TASK
    # The failed attempt let go of its claim, so the retry can take it.
    assert IntakeSubmission.objects.get(pk=submission.pk).notify_claimed_at is None
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now() - timedelta(seconds=1))
    run_worker()
    assert len(mail.outbox) == 1
    submission.refresh_from_db()
    assert submission.notified_at is not None
    assert submission.notify_claimed_at is None


def test_retries_stop_after_the_last_attempt(submit):
    from screening.tasks import MAX_ATTEMPTS

    submission = urgent_submission(submit)
    DBTaskResult.objects.update(args_kwargs={"args": [submission.pk, MAX_ATTEMPTS], "kwargs": {}})
    with mock.patch("screening.tasks.send_mail", side_effect=OSError("no route")):
        run_worker()
    assert not DBTaskResult.objects.filter(status="READY").exists()
    assert IntakeSubmission.objects.filter(pk=submission.pk).exists()


def test_queueing_failure_never_blocks_the_submission_and_the_sweeper_recovers(submit):
    broken = mock.Mock(**{"enqueue.side_effect": RuntimeError("database unavailable")})
    with mock.patch("screening.tasks.notify_new_submission", broken):
        submission = urgent_submission(submit)
    assert not DBTaskResult.objects.exists()
    call_command("send_intake_notifications", "--min-age", "0", verbosity=0)
    run_worker()
    assert len(mail.outbox) == 1
    submission.refresh_from_db()
    assert submission.notified_at is not None
    # Running the sweeper again sends nothing twice.
    call_command("send_intake_notifications", "--min-age", "0", verbosity=0)
    run_worker()
    assert len(mail.outbox) == 1


def test_fallback_address_from_settings(submit, settings):
    ClinicDetails.objects.update(intake_email="")
    settings.INTAKE_NOTIFY_EMAIL = "fallback@clinic.example"
    urgent_submission(submit)
    run_worker()
    assert mail.outbox[0].to == ["fallback@clinic.example"]


def test_honeypot_and_duplicates_send_nothing_extra(submit, intake_data, client):
    data = intake_data()
    client.post("/intake/", data)
    client.post("/intake/", data)
    client.post("/intake/", intake_data(website="spam"))
    run_worker()
    assert len(mail.outbox) == 1


def test_two_tasks_for_one_submission_send_one_email(submit):
    submission = urgent_submission(submit)
    notify_new_submission.enqueue(submission.pk)  # as an earlier sweeper run would have
    run_worker()
    assert len(mail.outbox) == 1
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == [
        "already sent",
        "sent",
    ]


def test_a_task_running_while_another_sends_sends_nothing(submit):
    """Two workers at once: the second finds the submission claimed and leaves it."""
    submission = urgent_submission(submit)
    sent, second_worker = [], []

    def slow_send(*args, **kwargs):
        sent.append(args)
        if len(sent) == 1:
            second_worker.append(notify_new_submission.call(submission.pk))

    with mock.patch("screening.tasks.send_mail", side_effect=slow_send):
        assert notify_new_submission.call(submission.pk) == "sent"
    assert len(sent) == 1
    assert second_worker == ["already sent or being sent"]
    submission.refresh_from_db()
    assert submission.notified_at is not None
    assert submission.notify_claimed_at is None


def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_lease(submit):
    submission = urgent_submission(submit)
    IntakeSubmission.objects.filter(pk=submission.pk).update(notify_claimed_at=timezone.now())
    assert notify_new_submission.call(submission.pk) == "already sent or being sent"
    assert mail.outbox == []
    IntakeSubmission.objects.filter(pk=submission.pk).update(
        notify_claimed_at=timezone.now() - claim_lease() - timedelta(seconds=1)
    )
    assert notify_new_submission.call(submission.pk) == "sent"
    assert len(mail.outbox) == 1


def sweep():
    out = StringIO()
    call_command("send_intake_notifications", "--min-age", "0", stdout=out)
    return out.getvalue()


def test_sweeper_leaves_queued_retrying_and_claimed_notifications_alone(submit):
    submission = urgent_submission(submit)
    assert "Queued 0 notification(s)." in sweep()  # the task queued with the form is waiting
    with mock.patch("screening.tasks.send_mail", side_effect=OSError("mail down")):
        run_worker()
    assert "Queued 0 notification(s)." in sweep()  # its retry is scheduled for later
    DBTaskResult.objects.filter(status="READY").delete()
    IntakeSubmission.objects.filter(pk=submission.pk).update(notify_claimed_at=timezone.now())
    assert "Queued 0 notification(s)." in sweep()  # a worker is sending it right now
    IntakeSubmission.objects.filter(pk=submission.pk).update(
        notify_claimed_at=timezone.now() - claim_lease() - timedelta(seconds=1)
    )
    assert "Queued 1 notification(s)." in sweep()  # that worker died: queue it again
    assert "Queued 0 notification(s)." in sweep()
    run_worker()
    assert len(mail.outbox) == 1


def test_a_task_left_running_by_a_crash_is_requeued_after_its_lease_and_sends_once(submit):
    submission = urgent_submission(submit)
    # A worker took the task and died: the task row says RUNNING and nobody will finish it.
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now())
    call_command("run_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert mail.outbox == []  # within the lease: it may still be running somewhere
    DBTaskResult.objects.update(started_at=timezone.now() - claim_lease() - timedelta(seconds=1))
    call_command("run_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert len(mail.outbox) == 1
    submission.refresh_from_db()
    assert submission.notified_at is not None
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_catch_up_finds_an_unsent_submission_after_five_minutes_by_default(submit):
    submission = urgent_submission(submit)
    DBTaskResult.objects.all().delete()  # queueing failed
    out = StringIO()
    call_command("send_intake_notifications", stdout=out)
    assert "Queued 0" in out.getvalue()  # too recent: its normal email may still be on its way
    IntakeSubmission.objects.filter(pk=submission.pk).update(
        submitted_at=timezone.now() - timedelta(minutes=5, seconds=1)
    )
    call_command("send_intake_notifications", stdout=out)
    assert "Queued 1" in out.getvalue()
    run_worker()
    assert len(mail.outbox) == 1


def test_catch_up_requeues_a_stale_running_task_instead_of_starting_another(submit):
    urgent_submission(submit)
    IntakeSubmission.objects.update(submitted_at=timezone.now() - timedelta(hours=1))
    DBTaskResult.objects.update(
        status="RUNNING", started_at=timezone.now() - claim_lease() - timedelta(seconds=1)
    )
    out = StringIO()
    call_command("send_intake_notifications", stdout=out)
    assert "Requeued 1 task(s)" in out.getvalue() and "Queued 0" in out.getvalue()
    run_worker()
    assert len(mail.outbox) == 1
    assert DBTaskResult.objects.count() == 1


def test_a_task_the_database_interrupted_runs_again_and_sends_once(submit):
    urgent_submission(submit)
    outage = OperationalError("server closed the connection")
    with mock.patch.object(tasks, "claim", side_effect=outage):
        call_command("run_worker", "--batch", "--no-startup-delay", verbosity=0)
    task = DBTaskResult.objects.get()
    assert task.status == "READY"  # queued again, not left FAILED
    assert mail.outbox == []
    DBTaskResult.objects.update(run_after=timezone.now())
    call_command("run_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert len(mail.outbox) == 1
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
