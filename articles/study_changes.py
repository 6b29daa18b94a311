"""Changes to studies that reviewed articles cite: proposed, accepted by a reviewer, flagged.

Once a submitted revision cites a study, what patients read about it (its reference, type,
finding, size, sham arm, stated GRADE rating, retraction) changes only through a medical
reviewer. An edit becomes a `StudyChange` waiting for a reviewer; accepting it applies it to
the library, records who and when, and flags every live article citing the study "review due
now", emailing its reviewer through the task worker; a live patient answer citing the study
gets a flag of its own, and its approver the email.

Live article pages are not rewritten by an accepted change either: they render each study as
it was when the live revision was submitted (`Citation.study_as_reviewed`), except that a
retraction shows at once. A re-reviewed revision picks up the new values.

`flag_articles_citing` is public so other sources of news about a study can flag the same
way. Editorial notices (retractions, corrections, expressions of concern, reinstatements, from
the Retraction Watch import or Crossref's update relations) come in through `record_notice`:
the one place where a study changes without a reviewer's decision, because a retraction must
reach patients at once.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.urls import reverse
from django.utils import timezone

from clinic.page_cache import content_changed

from .models import (
    Article,
    Citation,
    NoticeNature,
    ReviewFlag,
    ReviewFlagReason,
    Status,
    Study,
    StudyChange,
    StudyChangeStatus,
    StudyNotice,
)
from .workflow import log_step

logger = logging.getLogger(__name__)

# Fields whose meaning is a clinical judgement: only reviewers may propose changing them,
# as for uncited studies (StudyAdmin.verified_fields).
VERIFIED_FIELDS = (
    "study_type",
    "finding",
    "sample_size",
    "participants",
    "sham_controlled",
    "stated_grade",
    "is_retracted",
    "retraction_note",
)
VERIFY_PERMISSION = "articles.verify_study"
MAX_ATTEMPTS = 6


class StudyChangeRefused(Exception):
    """A rule stops this change; the message says which, in words for staff."""


def propose_change(study, values, *, by, reason="", now=None):
    """Record a proposed change to a cited study's reviewed fields; apply nothing.

    `values` maps field names to new values; only those that differ are kept. Returns the
    pending StudyChange, or None when nothing differs. Raises StudyChangeRefused for a field
    the user may not change, and ValidationError for values the study would refuse.
    """
    if not by.has_perm("articles.change_study"):
        raise StudyChangeRefused("You do not have permission to change studies.")
    unknown = set(values) - set(study.reviewed_values())
    if unknown:
        raise StudyChangeRefused(f"These fields cannot be proposed: {', '.join(sorted(unknown))}.")
    current = Study.objects.get(pk=study.pk)
    previous = current.reviewed_values()
    proposed = {name: value for name, value in values.items() if previous[name] != value}
    if not proposed:
        return None
    clinical = sorted(set(proposed) & set(VERIFIED_FIELDS))
    if clinical and not by.has_perm(VERIFY_PERMISSION):
        raise StudyChangeRefused(
            "Only a medical reviewer can change a study's "
            + ", ".join(Study._meta.get_field(name).verbose_name for name in clinical)
            + "."
        )
    candidate = Study(**{**_row(current), **proposed})
    candidate._state.adding = False  # the same row, so uniqueness checks exclude it
    candidate.full_clean()
    return StudyChange.objects.create(
        study=current,
        previous=previous,
        proposed=proposed,
        reason=reason[:300],
        proposed_by=by,
        proposed_at=now or timezone.now(),
    )


def _row(study):
    return {field.attname: getattr(study, field.attname) for field in Study._meta.concrete_fields}


def accept_change(change, *, by, note="", now=None):
    """Apply a pending change to the library (a medical reviewer's decision, recorded with
    who and when) and flag the live articles citing the study for review."""
    if not by.has_perm(VERIFY_PERMISSION):
        raise StudyChangeRefused(
            "Only a medical reviewer can accept a change to a study that articles cite."
        )
    now = now or timezone.now()
    with transaction.atomic():
        change = StudyChange.objects.select_for_update().get(pk=change.pk)
        if not change.is_pending():
            raise StudyChangeRefused(
                f"This change was already {change.get_status_display().lower()}."
            )
        study = Study.objects.select_for_update().get(pk=change.study_id)
        now_values = study.reviewed_values()
        moved = [name for name in change.proposed if now_values[name] != change.previous[name]]
        if moved:
            raise StudyChangeRefused(
                "The study changed after this was proposed ("
                + ", ".join(moved)
                + "): reject it and propose again from the current entry."
            )
        retracting = change.proposed.get("is_retracted") is True
        for name, value in change.proposed.items():
            setattr(study, name, value)
        study.full_clean()
        study.save()
        change.status = StudyChangeStatus.ACCEPTED
        change.decided_by, change.decided_at, change.decision_note = by, now, note[:300]
        change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        refresh_citations_in_review(study)
        fields = ", ".join(
            str(Study._meta.get_field(name).verbose_name) for name in sorted(change.proposed)
        )
        flag_articles_citing(
            study,
            reason=ReviewFlagReason.STUDY_RETRACTED
            if retracting
            else ReviewFlagReason.STUDY_CHANGED,
            by=by,
            detail=(
                f"{study.key} was marked retracted. {study.retraction_note}".strip()
                if retracting
                else f"{study.key}: {fields} changed."
            ),
            now=now,
        )
    return change


def refresh_citations_in_review(study) -> int:
    """The citations of `study` in texts submitted and not yet approved (article revisions and
    patient answers) take the study as it is now, and lose their verdicts.

    Their record of the study was taken at submission and is what patients will see once the
    text is approved, while the review screen shows the library's entry: after a change the
    reviewer would judge one and patients be shown the other. Now the reviewer judges the
    claim again against the changed study, and that is what is recorded. Texts already
    approved keep what was approved (live ones are flagged for review instead)."""
    # Only the revision each article has in review now: earlier revisions, sent back or
    # superseded, keep their verdicts and record as history.
    in_review = Citation.objects.filter(study=study).filter(
        Q(claim__revision__in=Article.objects.filter(status=Status.IN_REVIEW).values("draft"))
        | Q(
            claim__answer__submitted_at__isnull=False,
            claim__answer__approved_at__isnull=True,
            claim__answer__retired_at__isnull=True,
        )
    )
    in_review.update(verdict="", verdict_note="", verdict_by=None, verdict_at=None)
    return in_review.record_studies_as_reviewed()


def reject_change(change, *, by, note="", now=None):
    """Turn down a pending change; the study stays as it is."""
    if not by.has_perm(VERIFY_PERMISSION):
        raise StudyChangeRefused("Only a medical reviewer can reject a change to a study.")
    with transaction.atomic():
        change = StudyChange.objects.select_for_update().get(pk=change.pk)
        if not change.is_pending():
            raise StudyChangeRefused(
                f"This change was already {change.get_status_display().lower()}."
            )
        change.status = StudyChangeStatus.REJECTED
        change.decided_by, change.decided_at = by, now or timezone.now()
        change.decision_note = note[:300]
        change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return change


NOTICE_FLAG_REASONS = {
    NoticeNature.RETRACTION: ReviewFlagReason.STUDY_RETRACTED,
    NoticeNature.CORRECTION: ReviewFlagReason.STUDY_CORRECTED,
    NoticeNature.EXPRESSION_OF_CONCERN: ReviewFlagReason.STUDY_CONCERN,
    NoticeNature.REINSTATEMENT: ReviewFlagReason.STUDY_REINSTATED,
}


def record_notice(
    study,
    *,
    nature,
    source,
    source_id,
    notice_on=None,
    notice_doi="",
    notice_pmid="",
    reason="",
    by=None,
    now=None,
):
    """Record an editorial notice about `study` once per source record, and act on it.

    A retraction marks the study retracted at once (patients see a notice on every live
    article citing it, and no article citing it can be approved); every nature flags the
    live articles citing the study for review and emails their reviewers. A reinstatement
    does not clear the retraction: a reviewer decides that. Returns the new StudyNotice and
    its flags, or (None, []) when this record was already known.
    """
    now = now or timezone.now()
    with transaction.atomic():
        notice, created = StudyNotice.objects.get_or_create(
            study=study,
            source=source,
            source_id=source_id[:200],
            defaults={
                "nature": nature,
                "notice_on": notice_on,
                "notice_doi": notice_doi[:200],
                "notice_pmid": notice_pmid[:12],
                "reason": reason,
                "recorded_at": now,
            },
        )
        if not created:
            return None, []
        label = NoticeNature(nature).label
        when = f" on {notice_on.isoformat()}" if notice_on else ""
        where = f" (notice: https://doi.org/{notice_doi})" if notice_doi else ""
        detail = f"{label}{when}{where}. {reason}".strip()
        if nature == NoticeNature.RETRACTION and not study.is_retracted:
            study.is_retracted = True
            study.retraction_note = f"Retracted{when}.{where} {reason}".strip()[:2000]
            study.save(update_fields=["is_retracted", "retraction_note", "updated_at"])
        flags = flag_articles_citing(
            study,
            reason=NOTICE_FLAG_REASONS[nature],
            by=by,
            detail=f"{study.key}: {detail}",
            now=now,
        )
    return notice, flags


def flag_articles_citing(study, *, reason, by=None, detail="", now=None):
    """Mark every live article whose live revision cites `study` as "review due now", flag
    every published patient answer citing it, and queue an email for each flag. Returns the new
    ReviewFlags, the articles' first.

    `reason` is a ReviewFlagReason value; any other text is kept as the detail of an
    "other" flag. The article's next review date moves to today (the review-due filters and
    `review_reminders` list it), and the flag stays open until a revision approved after it
    is published. An answer's flag leaves the article's dates alone: it stays open until an
    answer approved after it replaces the answer, or the answer is withdrawn.
    """
    now = now or timezone.now()
    if reason not in ReviewFlagReason.values:
        reason, detail = ReviewFlagReason.OTHER, (detail or str(reason))
    today = timezone.localdate(now)
    with transaction.atomic():
        citing = Article.objects.published().filter(live_revision__claims__citations__study=study)
        # PostgreSQL locks no DISTINCT query, so lock the rows found by primary key.
        articles = list(
            Article.objects.filter(pk__in=citing.values("pk"))
            .select_related("live_revision")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        # Answers live in the questions app, which builds on this one: reach them by the key.
        answers_model = ReviewFlag._meta.get_field("answer").related_model
        answers = list(
            answers_model.objects.current()
            .filter(pk__in=Citation.objects.filter(study=study).values("claim__answer"))
            .select_related("question__article")
            .order_by("pk")
        )
        about = [(article, None) for article in articles]
        about += [(answer.question.article, answer) for answer in answers]
        flags = ReviewFlag.objects.bulk_create(
            ReviewFlag(
                article=article,
                answer=answer,
                study=study,
                reason=reason,
                detail=detail,
                raised_by=by,
                raised_at=now,
            )
            for article, answer in about
        )
        Article.objects.filter(
            pk__in=[article.pk for article in articles], next_review_due_on__gt=today
        ).update(next_review_due_on=today)
        Article.objects.filter(
            pk__in=[article.pk for article in articles], next_review_due_on__isnull=True
        ).update(next_review_due_on=today)
        # The queryset updates above send no signals; the article pages show the review date.
        content_changed()
        for flag in flags:
            if by is not None:
                _log(flag, by)
            queue_notification(flag)
    return flags


def flagged_message(*, articles: int, answers: int) -> str:
    """What staff are told after a change flagged `articles` articles and `answers` answers."""
    flagged = [
        f"{count} {noun}{'' if count == 1 else 's'}"
        for count, noun in ((articles, "live article"), (answers, "patient answer"))
        if count
    ]
    if not flagged:
        return "No live article or patient answer cites it."
    verb = "is" if articles + answers == 1 else "are"
    return (
        f"{' and '.join(flagged)} citing it {verb} now due for review; whoever reviewed "
        f"{'it' if articles + answers == 1 else 'each'} is being emailed."
    )


def _log(flag, by):
    """The flag in the history of the article, or of the question whose answer it is about,
    beside the workflow steps."""
    about = f"answer #{flag.answer_id}, " if flag.answer_id else ""
    message = f"Review due now: {flag.get_reason_display().lower()} ({about}{flag.study.key}). "
    subject = flag.answer.question if flag.answer_id else flag.article
    log_step(subject, by, (message + flag.detail).strip(), flag.raised_at)


def queue_notification(flag):
    """Queue the reviewer's email in the caller's transaction (a savepoint, so a failure to
    queue never undoes the flag; the flag's `notified_at` then stays empty, visible in the
    admin)."""
    try:
        with transaction.atomic():
            notify_review_due.enqueue(flag.pk)
    except Exception:
        logger.exception("Review flag #%s: could not queue the reviewer's email", flag.pk)
        return False
    return True


def compose(flag):
    """The reviewer's email about a flag: subject and plain-text body."""
    article = flag.article
    title = article.live_revision.title if article.live_revision else article.slug
    retracted = ", with a notice that a study it relies on was retracted."
    shown = retracted if flag.reason == ReviewFlagReason.STUDY_RETRACTED else "."
    if flag.answer_id is None:
        subject = f"Review due now: “{title}”"
        opening = f"A study cited by “{title}”, which you reviewed, needs your attention."
        shown = f"Patients keep seeing the article as you reviewed it{shown}"
        ask = (
            "Please review it again now: open a new revision, check the claims citing this "
            "study, and approve and publish it."
        )
        link = reverse("admin:articles_article_review", args=[article.pk])
    else:
        subject = f"Review due now: an answer under “{title}”"
        opening = (
            f"A study cited in an answer you approved, to a patient's question under "
            f"“{title}”, needs your attention."
        )
        shown = f"Patients keep seeing the answer as you approved it{shown}"
        ask = (
            "Please review it again now: write a new answer to the question and have it "
            "approved and published (it replaces this one), or withdraw this answer."
        )
        link = reverse("admin:questions_publicanswer_review", args=[flag.answer_id])
    body = "\n".join(
        [
            opening,
            f"{flag.get_reason_display()}: {flag.detail}".strip(),
            "",
            shown,
            ask,
            "",
            f"Open it in the admin (sign-in needed): {settings.SITE_URL}{link}",
        ]
    )
    return subject, body


def _recipient(flag):
    """Who reviewed what the flag is about: the answer's approver, or the article's reviewer
    when the flag is about the article or the approver cannot be emailed."""
    if flag.answer_id is not None:
        approver = flag.answer.approved_by
        if approver is not None and approver.is_active and approver.email:
            return approver
    return flag.article.reviewer


@task()
def notify_review_due(flag_id: int, attempt: int = 1) -> str:
    """Email the reviewer of the flagged article (or answer) that a flag was raised; once
    per flag."""
    flag = (
        ReviewFlag.objects.select_related(
            "article__live_revision", "article__reviewer", "study", "answer__approved_by"
        )
        .filter(pk=flag_id)
        .first()
    )
    if flag is None:
        return "gone"
    if not flag.is_open():
        # Reviewed again (or withdrawn) before the worker got to it: nothing to ask for.
        return "closed"
    reviewer = _recipient(flag)
    if reviewer is None or not reviewer.email:
        logger.warning("Review flag #%s: no reviewer with an email to tell.", flag_id)
        return "no recipient"
    # Claim the flag first, so a re-queued task never sends the same email twice.
    claimed_at = timezone.now()
    if not ReviewFlag.objects.filter(pk=flag_id, notified_at__isnull=True).update(
        notified_at=claimed_at
    ):
        return "already sent"
    subject, body = compose(flag)
    try:
        send_mail(subject, body, None, [reviewer.email])
    except Exception:
        ReviewFlag.objects.filter(pk=flag_id, notified_at=claimed_at).update(notified_at=None)
        if attempt < MAX_ATTEMPTS:
            notify_review_due.using(
                run_after=timezone.now() + timedelta(minutes=2 ** (attempt - 1))
            ).enqueue(flag_id, attempt + 1)
        logger.exception("Review flag #%s: email attempt %s failed", flag_id, attempt)
        raise
    return "sent"
