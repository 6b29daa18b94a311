"""The editorial workflow: drafts, review, verdicts, approval and publication.

Every operation checks the acting user's permission and the article's state on the server,
runs in one transaction, and either does all of its work or raises `WorkflowRefused`, whose
message names the article and each rule that failed. The admin's bulk actions, the change
page buttons and the review screen all go through these functions.

    draft -> in review -> changes requested -> (edit) draft -> ...
                       -> approved -> published -> unpublished
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from clinic.input_guard import find_unsafe_characters

from .body import parse
from .lint import uncited_claims
from .models import (
    Article,
    ArticleRevision,
    Citation,
    Claim,
    LintDismissal,
    ReviewComment,
    ReviewerProfile,
    Status,
    Study,
    Verdict,
    claim_text_hash,
)

REVIEW_INTERVAL = timedelta(days=365)
# Reviewers' free text. Long enough for a careful note; short enough that a pasted document or
# a probe cannot fill the table or the review screen.
NOTE_MAX_LENGTH = 2000
COMMENT_MAX_LENGTH = 5000
DISMISSAL_REASON_MAX_LENGTH = 300


def review_text_problem(text: str, *, what: str, limit: int) -> str | None:
    """Why a reviewer's note, wording or comment cannot be saved as typed; None if it can."""
    if problem := find_unsafe_characters(text):
        return f"The {what} cannot be saved: {problem}"
    if len(text.strip()) > limit:
        return f"Keep the {what} under {limit} characters (it has {len(text.strip())})."
    return None


def _check_text(article, text, *, what, limit):
    if problem := review_text_problem(text, what=what, limit=limit):
        raise WorkflowRefused(article, [problem])


class WorkflowRefused(Exception):
    """An editorial rule stops this operation; the message says which, for which article."""

    def __init__(self, article, reasons):
        self.article = article
        self.reasons = list(reasons)
        super().__init__(f"“{article.title}”: " + " ".join(self.reasons))


def _require(user, permission, article, doing):
    if not user.has_perm(f"articles.{permission}"):
        raise WorkflowRefused(article, [f"You do not have permission to {doing}."])


def _log(article, by, message, at=None):
    """Record a workflow step in the admin's own history (LogEntry), at `at` if given."""
    entry = LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=[article],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )
    if at is not None:
        LogEntry.objects.filter(pk=entry.pk).update(action_time=at)


def _locked(article):
    return (
        Article.objects.select_for_update(of=("self",))
        .select_related("draft", "live_revision", "author")
        .get(pk=article.pk)
    )


# Drafting -------------------------------------------------------------------------------


def save_draft(article, *, title, summary, body, by, parsed=None):
    """Store the working text of `article` in its open draft revision.

    A draft is created (numbered after the last revision) when there is none or the open
    one was already submitted, so a submitted or live revision is never changed.
    """
    parsed = parsed if parsed is not None else parse(body)
    with transaction.atomic():
        revision = article.draft
        if revision is None or revision.is_frozen():
            last = article.revisions.aggregate(last=Max("number"))["last"] or 0
            revision = ArticleRevision(article=article, number=last + 1, created_by=by)
        revision.title = title
        revision.summary = summary
        revision.body = body
        revision.rendered_html = parsed.html
        revision.content_hash = revision.compute_content_hash()
        revision.save()
        sync_claims(revision, parsed)
        fields = {"version": article.version + 1}
        if article.draft_id != revision.pk:
            fields.update(draft=revision, status=Status.DRAFT)
        for name, value in fields.items():
            setattr(article, name, value)
        article.save(update_fields=[*fields, "updated_at"])
    return revision


def sync_claims(revision, parsed):
    """Replace the revision's claims and citations with those parsed from its body.

    A claim whose wording is unchanged keeps the verdicts (and certainty) it had, in this
    revision or the one before, for each study it still cites.
    """
    if revision.is_frozen():
        raise ValueError("A submitted revision's claims cannot change.")
    earlier = _earlier_verdicts(revision)
    studies = Study.objects.in_bulk(list(parsed.keys), field_name="key")
    missing = sorted(parsed.keys - studies.keys())
    if missing:
        raise ValueError(f"Unknown citation keys: {', '.join(missing)}")

    revision.claims.all().delete()
    claims = Claim.objects.bulk_create(
        Claim(
            revision=revision,
            ordinal=ordinal,
            text=parsed_claim.text,
            text_hash=claim_text_hash(parsed_claim.text),
        )
        for ordinal, parsed_claim in enumerate(parsed.claims, start=1)
    )
    citations = []
    for claim, parsed_claim in zip(claims, parsed.claims, strict=True):
        kept = earlier.get(claim.text_hash, {})
        if "certainty" in kept:
            claim.certainty, claim.certainty_wording = kept["certainty"]
        for position, cite in enumerate(parsed_claim.cites):
            citation = Citation(
                claim=claim, study=studies[cite.key], position=position, locator=cite.locator
            )
            verdict = kept.get(cite.key)
            if verdict:
                (
                    citation.verdict,
                    citation.verdict_note,
                    citation.verdict_by_id,
                    citation.verdict_at,
                ) = verdict
            citations.append(citation)
    Citation.objects.bulk_create(citations)
    kept_certainty = [claim for claim in claims if claim.certainty]
    if kept_certainty:
        Claim.objects.bulk_update(kept_certainty, ["certainty", "certainty_wording"])


def _earlier_verdicts(revision):
    """Verdicts by claim wording, from this revision and the latest revision before it."""
    sources = [revision.pk] if revision.pk else []
    previous = (
        ArticleRevision.objects.filter(article_id=revision.article_id, number__lt=revision.number)
        .order_by("-number")
        .values_list("pk", flat=True)
        .first()
    )
    if previous:
        sources.append(previous)
    found = {}
    # The current revision comes last so its own verdicts win over older ones.
    for source in reversed(sources):
        rows = Citation.objects.filter(claim__revision_id=source).select_related("claim", "study")
        for citation in rows:
            kept = found.setdefault(citation.claim.text_hash, {})
            if citation.claim.certainty:
                kept["certainty"] = (citation.claim.certainty, citation.claim.certainty_wording)
            if citation.verdict:
                kept[citation.study.key] = (
                    citation.verdict,
                    citation.verdict_note,
                    citation.verdict_by_id,
                    citation.verdict_at,
                )
    return found


# Review ---------------------------------------------------------------------------------


def submit_for_review(article, *, by, now=None):
    """Freeze the open draft as an immutable revision and hand it to the reviewers."""
    now = now or timezone.now()
    with transaction.atomic():
        article = _locked(article)
        _require(by, "submit_article", article, "submit articles for review")
        revision = article.draft
        if article.status not in (Status.DRAFT, Status.UNPUBLISHED) or revision is None:
            raise WorkflowRefused(
                article,
                [f"Only a draft can be submitted; this article is {article.get_status_display()}."],
            )
        if revision.is_frozen():
            raise WorkflowRefused(
                article, ["This revision was already submitted: edit the article first."]
            )
        problems = body_problems(revision)
        if problems:
            raise WorkflowRefused(article, problems)
        revision.submitted_by, revision.submitted_at = by, now
        revision.content_hash = revision.compute_content_hash()
        revision.save(update_fields=["submitted_by", "submitted_at", "content_hash"])
        study = Study.objects.filter(pk=OuterRef("study_id"))
        Citation.objects.filter(claim__revision=revision).update(
            study_type_as_reviewed=Subquery(study.values("study_type")[:1]),
            finding_as_reviewed=Subquery(study.values("finding")[:1]),
        )
        article.status = Status.IN_REVIEW
        article.version += 1
        article.save(update_fields=["status", "version", "updated_at"])
        _log(article, by, f"Submitted revision {revision.number} for review.", now)
    return article


def _revision_under_review(article, by, doing):
    _require(by, "review_article", article, doing)
    if article.status != Status.IN_REVIEW or article.draft is None:
        raise WorkflowRefused(
            article,
            [
                f"It is not in review (status: {article.get_status_display()}), "
                f"so you cannot {doing}."
            ],
        )
    return article.draft


def record_verdict(citation, *, verdict, note="", by, now=None):
    """Record whether the cited study supports the claim, on a revision in review."""
    if verdict not in Verdict.values:
        raise ValueError(f"Unknown verdict {verdict!r}")
    with transaction.atomic():
        citation = Citation.objects.select_related("claim__revision").get(pk=citation.pk)
        article = _locked(citation.claim.revision.article)
        revision = _revision_under_review(article, by, "record verdicts")
        if citation.claim.revision_id != revision.pk:
            raise WorkflowRefused(article, ["That citation is not in the revision under review."])
        _check_text(article, note, what="note", limit=NOTE_MAX_LENGTH)
        if verdict != Verdict.SUPPORTS and not note.strip():
            raise WorkflowRefused(
                article, ["Say in a note why the study does not fully support the claim."]
            )
        citation.verdict, citation.verdict_note = verdict, note.strip()
        citation.verdict_by, citation.verdict_at = by, now or timezone.now()
        citation.save(update_fields=["verdict", "verdict_note", "verdict_by", "verdict_at"])
    return citation


def set_certainty(claim, *, certainty, wording="", by):
    """Rate the certainty of the evidence for a claim (GRADE), with patient-facing words."""
    with transaction.atomic():
        claim = Claim.objects.select_related("revision").get(pk=claim.pk)
        article = _locked(claim.revision.article)
        revision = _revision_under_review(article, by, "rate certainty")
        if claim.revision_id != revision.pk:
            raise WorkflowRefused(article, ["That claim is not in the revision under review."])
        max_wording = Claim._meta.get_field("certainty_wording").max_length
        _check_text(article, wording, what="certainty wording", limit=max_wording)
        claim.certainty, claim.certainty_wording = certainty, wording.strip()
        claim.full_clean(exclude=["revision", "text", "text_hash", "ordinal"])
        claim.save(update_fields=["certainty", "certainty_wording"])
    return claim


def add_comment(article, *, body, by):
    """Comment on the article as a whole; the author sees it beside the verdicts."""
    if not body.strip():
        raise WorkflowRefused(article, ["A comment cannot be empty."])
    _check_text(article, body, what="comment", limit=COMMENT_MAX_LENGTH)
    with transaction.atomic():
        article = _locked(article)
        _require(by, "review_article", article, "comment on reviews")
        revision = article.draft or article.live_revision
        if revision is None:
            raise WorkflowRefused(article, ["It has no revision to comment on."])
        return ReviewComment.objects.create(
            article=article, revision=revision, author=by, body=body.strip()
        )


def open_lint_findings(article, revision=None):
    """Linter warnings on the revision that no reviewer has dismissed yet."""
    revision = revision or article.working_revision
    if revision is None:
        return []
    dismissed = set(article.lint_dismissals.values_list("fingerprint", flat=True))
    return [
        finding for finding in uncited_claims(revision.body) if finding.fingerprint not in dismissed
    ]


def dismiss_lint_finding(article, *, fingerprint, by, reason="", now=None):
    """Record that a flagged sentence is not a health claim (who and when)."""
    _check_text(article, reason, what="reason", limit=DISMISSAL_REASON_MAX_LENGTH)
    with transaction.atomic():
        article = _locked(article)
        revision = _revision_under_review(article, by, "dismiss linter warnings")
        finding = next(
            (f for f in uncited_claims(revision.body) if f.fingerprint == fingerprint), None
        )
        if finding is None:
            raise WorkflowRefused(article, ["That warning is not on the revision under review."])
        dismissal, _created = LintDismissal.objects.get_or_create(
            article=article,
            fingerprint=fingerprint,
            defaults={
                "revision": revision,
                "sentence": finding.sentence,
                "reason": reason.strip(),
                "dismissed_by": by,
                "dismissed_at": now or timezone.now(),
            },
        )
        _log(
            article,
            by,
            f"Dismissed a linter warning as not a claim: “{finding.sentence}”",
            dismissal.dismissed_at,
        )
    return dismissal


def request_changes(article, *, by, comment=""):
    """Send the article back to its author, with an optional comment."""
    _check_text(article, comment, what="comment", limit=COMMENT_MAX_LENGTH)
    with transaction.atomic():
        article = _locked(article)
        _require(by, "review_article", article, "request changes")
        if article.status not in (Status.IN_REVIEW, Status.APPROVED):
            raise WorkflowRefused(
                article,
                [
                    "Only an article in review can be sent back; "
                    f"it is {article.get_status_display()}."
                ],
            )
        revision = article.draft
        if comment.strip():
            ReviewComment.objects.create(
                article=article, revision=revision, author=by, body=comment.strip()
            )
        if revision.approved_at:
            revision.approved_by = revision.approved_at = None
            revision.approved_hash = ""
            revision.save(update_fields=["approved_by", "approved_at", "approved_hash"])
        article.status = Status.CHANGES_REQUESTED
        article.version += 1
        article.save(update_fields=["status", "version", "updated_at"])
        _log(article, by, f"Requested changes to revision {revision.number}.")
    return article


# The publishing gate --------------------------------------------------------------------


def body_problems(revision):
    """Marker or Markdown errors in the revision's body."""
    errors = parse(revision.body).errors
    if not errors:
        return []
    return [f"The body has {len(errors)} marker or Markdown error(s), first: {errors[0].message}"]


def evidence_problems(revision):
    """Claims without citations or without a 'supports' verdict, and retracted studies."""
    problems = []
    claims = list(revision.claims.prefetch_related("citations__study"))
    uncited = [claim.ordinal for claim in claims if not claim.citations.all()]
    if uncited:
        problems.append(f"Claim(s) {_numbers(uncited)} have no citation.")
    unsupported = [
        f"claim {claim.ordinal} → {citation.study.key} "
        f"({citation.get_verdict_display().lower() if citation.verdict else 'no verdict yet'})"
        for claim in claims
        for citation in claim.citations.all()
        if citation.verdict != Verdict.SUPPORTS
    ]
    if unsupported:
        problems.append(
            f"{len(unsupported)} citation(s) lack a “supports” verdict: "
            + "; ".join(unsupported[:5])
            + ("; …" if len(unsupported) > 5 else "")
            + "."
        )
    retracted = sorted(
        {c.study.key for claim in claims for c in claim.citations.all() if c.study.is_retracted}
    )
    if retracted:
        problems.append(f"It cites retracted studies: {', '.join(retracted)}.")
    return problems


def _numbers(values):
    return ", ".join(str(value) for value in values)


def reviewer_problems(article, revision, by, today=None):
    """The approver must be an independent reviewer with current, verified credentials."""
    problems = []
    if by.pk in (article.author_id, revision.created_by_id, revision.submitted_by_id):
        problems.append("A reviewer cannot approve an article they wrote.")
    profile = ReviewerProfile.objects.filter(user=by).first()
    if profile is None:
        problems.append(
            "You have no reviewer profile: add your registration details before approving."
        )
    elif not profile.is_verification_current(today):
        problems.append(
            f"Your registration was last verified on {profile.verified_on:%d %B %Y}, more than "
            "12 months ago: ask an administrator to re-verify it before approving."
        )
    return problems


def approval_problems(article, by, today=None):
    """Every reason the article's revision in review cannot be approved by `by`."""
    revision = article.draft
    if article.status != Status.IN_REVIEW or revision is None:
        return [f"Only an article in review can be approved; it is {article.get_status_display()}."]
    problems = body_problems(revision)
    problems += evidence_problems(revision)
    unrated = list(
        revision.claims.filter(certainty="").order_by("ordinal").values_list("ordinal", flat=True)
    )
    if unrated:
        problems.append(f"Claim(s) {_numbers(unrated)} have no certainty rating.")
    open_findings = open_lint_findings(article, revision)
    if open_findings:
        problems.append(
            f"{len(open_findings)} linter warning(s) are neither cited nor dismissed, "
            f"e.g. “{open_findings[0].sentence}”."
        )
    problems += reviewer_problems(article, revision, by, today)
    if revision.content_hash != revision.compute_content_hash():
        problems.append("The revision's content does not match its recorded hash.")
    return problems


def approve(article, *, by, next_review_due_on=None, now=None):
    """Approve the revision in review: records who, when and the hash of exactly that text."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        article = _locked(article)
        _require(by, "approve_article", article, "approve articles")
        problems = approval_problems(article, by, today)
        if problems:
            raise WorkflowRefused(article, problems)
        revision = article.draft
        revision.approved_by, revision.approved_at = by, now
        revision.approved_hash = revision.content_hash
        revision.next_review_due_on = next_review_due_on or today + REVIEW_INTERVAL
        revision.save(
            update_fields=["approved_by", "approved_at", "approved_hash", "next_review_due_on"]
        )
        # The article's reviewer and review dates describe the live text, so they change
        # when this revision is published, not now.
        article.status = Status.APPROVED
        article.version += 1
        article.save(update_fields=["status", "version", "updated_at"])
        _log(
            article, by, f"Approved revision {revision.number} ({revision.content_hash[:12]}).", now
        )
    return article


def publish(article, *, by, now=None):
    """Make the approved revision live, exactly as approved; the old live one retires."""
    now = now or timezone.now()
    with transaction.atomic():
        article = _locked(article)
        _require(by, "publish_article", article, "publish articles")
        revision = article.draft
        if revision is None or not revision.approved_at:
            raise WorkflowRefused(article, ["Only an approved revision can be published."])
        problems = []
        if revision.approved_hash != revision.compute_content_hash():
            problems.append("The text differs from what was approved: it must be reviewed again.")
        problems += body_problems(revision)
        retracted = sorted(
            Study.objects.filter(citations__claim__revision=revision, is_retracted=True)
            .values_list("key", flat=True)
            .distinct()
        )
        if retracted:
            problems.append(f"It cites studies retracted since approval: {', '.join(retracted)}.")
        if problems:
            raise WorkflowRefused(article, problems)
        if article.live_revision is not None:
            article.live_revision.retired_at = now
            article.live_revision.save(update_fields=["retired_at"])
        revision.published_by, revision.published_at, revision.retired_at = by, now, None
        revision.save(update_fields=["published_by", "published_at", "retired_at"])
        article.live_revision = revision
        article.draft = None
        article.status = Status.PUBLISHED
        article.first_published_at = article.first_published_at or now
        article.reviewer = revision.approved_by
        article.last_reviewed_on = timezone.localdate(revision.approved_at)
        article.next_review_due_on = revision.next_review_due_on
        article.version += 1
        article.save()
        _log(article, by, f"Published revision {revision.number}.", now)
    return article


def unpublish(article, *, by, now=None):
    """Take the article off the public site; its revisions stay on record."""
    now = now or timezone.now()
    with transaction.atomic():
        article = _locked(article)
        _require(by, "publish_article", article, "unpublish articles")
        live = article.live_revision
        if live is None:
            raise WorkflowRefused(article, ["It is not published."])
        live.retired_at = now
        live.save(update_fields=["retired_at"])
        article.live_revision = None
        if article.draft is None:
            # The last live text becomes the working copy, so staff can edit and resubmit it.
            article.draft = live
            article.status = Status.UNPUBLISHED
        # Otherwise a newer draft keeps its own place in the workflow (draft, in review…).
        article.version += 1
        article.save()
        _log(article, by, f"Unpublished revision {live.number}.", now)
    return article


@dataclass(frozen=True)
class Transition:
    """A workflow step as the admin offers it: its function and who may try it."""

    name: str
    label: str
    permission: str
    function: object


TRANSITIONS = {
    transition.name: transition
    for transition in [
        Transition("submit_for_review", "Submit for review", "submit_article", submit_for_review),
        Transition("request_changes", "Request changes", "review_article", request_changes),
        Transition("approve", "Approve", "approve_article", approve),
        Transition("publish", "Publish", "publish_article", publish),
        Transition("unpublish", "Unpublish", "publish_article", unpublish),
    ]
}


def available_transitions(article, user):
    """The steps this user may try on this article now (the server re-checks each one)."""
    state = {
        "submit_for_review": article.status in (Status.DRAFT, Status.UNPUBLISHED)
        and article.draft is not None
        and not article.draft.is_frozen(),
        "request_changes": article.status in (Status.IN_REVIEW, Status.APPROVED),
        "approve": article.status == Status.IN_REVIEW,
        "publish": article.status in (Status.APPROVED, Status.UNPUBLISHED)
        and article.draft is not None
        and bool(article.draft.approved_at),
        "unpublish": article.live_revision_id is not None,
    }
    return [
        transition
        for name, transition in TRANSITIONS.items()
        if state[name] and user.has_perm(f"articles.{transition.permission}")
    ]


def live_revision_on(article, moment):
    """The revision that was live at `moment`, or None."""
    return (
        article.revisions.filter(published_at__lte=moment)
        .exclude(retired_at__lte=moment)
        .order_by("-published_at")
        .first()
    )
