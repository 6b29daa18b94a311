"""The editorial workflow: drafts, review, verdicts, approval and publication.

Each step is declared once, as a `Step`: `check(article, user, **options)` returns the coded
`Problem`s that stop it (permission, state, then the step's own rules), and `execute()` makes
the change. `Step.run()` is the one frame every step shares: lock the article's row, check,
execute, bump the edit version, save, log. The change page buttons, the admin's bulk actions
and the review screen all ask the same `check()`, so a rule is written in one place.

The public contract is one function per step (`publish(article, *, by)` …) at the bottom.

    draft -> in review -> changes requested -> (edit) draft -> ...
                       -> approved -> published -> unpublished
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format

from clinic.input_guard import find_unsafe_characters

from .body import ParsedBody, parse
from .certainty import facts_of, wording_problem
from .lint import revision_findings
from .models import (
    Article,
    ArticleRevision,
    Certainty,
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
from .signals import live_revision_changed

if TYPE_CHECKING:
    from questions.models import PublicAnswer

# The gate's checks of a text and its claims apply to public answers too (evaluated lazily,
# so the questions app is imported for type checkers only).
type GatedText = ArticleRevision | PublicAnswer

REVIEW_INTERVAL = timedelta(days=365)
_WORDING_FIELD = Claim._meta.get_field("certainty_wording")
assert _WORDING_FIELD.max_length is not None  # a CharField always has one
WORDING_MAX_LENGTH: int = _WORDING_FIELD.max_length
# Reviewers' free text. Long enough for a careful note; short enough that a pasted document or
# a probe cannot fill the table or the review screen.
NOTE_MAX_LENGTH = 2000
COMMENT_MAX_LENGTH = 5000
DISMISSAL_REASON_MAX_LENGTH = 300

# Problems about the person approving rather than the article.
REVIEWER_CODES = frozenset({"own_article", "no_reviewer_profile", "verification_expired"})


@dataclass(frozen=True)
class Problem:
    """One reason a step cannot run: a stable `code` for programs, a `message` for people."""

    code: str
    message: str

    def __str__(self):
        return self.message


def review_text_problem(text: str, *, what: str, limit: int) -> str | None:
    """Why a reviewer's note, wording or comment cannot be saved as typed; None if it can."""
    if problem := find_unsafe_characters(text):
        return f"The {what} cannot be saved: {problem}"
    if len(text.strip()) > limit:
        return f"Keep the {what} under {limit} characters (it has {len(text.strip())})."
    return None


def text_problems(text: str, *, what: str, limit: int, code: str) -> list[Problem]:
    """`review_text_problem` as the coded problems a step returns."""
    problem = review_text_problem(text, what=what, limit=limit)
    return [Problem(code, problem)] if problem else []


class WorkflowRefused(Exception):
    """An editorial rule stops this operation; the message says which, for which article."""

    def __init__(self, article: Article, problems: list[Problem]):
        self.article = article
        self.problems = list(problems)
        self.reasons = [problem.message for problem in self.problems]
        self.codes = {problem.code for problem in self.problems}
        super().__init__(f"“{article.title}”: " + " ".join(self.reasons))


def log_step(obj, by, message, at=None):
    """Record a workflow step in the admin's own history (LogEntry) of `obj`, at `at` if given.

    Article steps, patient-answer steps and review flags share it. Written as
    `LogEntry.objects.log_actions` writes it, with the time in the same INSERT."""
    LogEntry.objects.create(
        user_id=by.pk,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=CHANGE,
        change_message=message,
        action_time=at or timezone.now(),
    )


def _locked(article):
    return (
        Article.objects.select_for_update(of=("self",))
        .select_related("draft", "live_revision", "author")
        .get(pk=article.pk)
    )


class Step:
    """One workflow step. Subclasses set the class attributes and write `execute()`, and
    add their own rules in `rule_problems()`."""

    name: str
    label: str
    permission: str  # codename in the articles app
    doing: str  # completes "You do not have permission to …"
    # Whether the step changes which text patients see (search index, page cache).
    changes_live_text: bool = False

    def check(self, article: Article, user: User | AnonymousUser, **options) -> list[Problem]:
        """Every reason `user` cannot take this step on `article` now (empty: go ahead)."""
        return self.gate_problems(article, user) or self.rule_problems(article, user, **options)

    def gate_problems(self, article: Article, user: User | AnonymousUser) -> list[Problem]:
        """Whether the step applies at all: the user's permission, then the article's state."""
        if not user.has_perm(f"articles.{self.permission}"):
            return [Problem("permission", f"You do not have permission to {self.doing}.")]
        return self.state_problems(article)

    def state_problems(self, article: Article) -> list[Problem]:
        """Whether the step applies to the article where it stands (problems coded "state")."""
        return []

    def rule_problems(
        self, article: Article, user: User | AnonymousUser, **options
    ) -> list[Problem]:
        """The step's own rules, once permission and state allow it."""
        return []

    def is_offered(self, article: Article, user: User | AnonymousUser) -> bool:
        """Whether a button for this step belongs on the page. Rules the user can still fix
        (verdicts missing…) do not hide it: pressing it lists them."""
        return not self.gate_problems(article, user)

    def execute(self, article: Article, *, by: User, now: datetime, **options) -> str:
        """Make the change on the locked article; return the history message ('' for none)."""
        raise NotImplementedError

    def run(self, article: Article, *, by: User, now=None, **options) -> Article:
        """The shared frame: lock, check, execute, bump the version, save, log; all or nothing.

        `article` is updated in place to the saved state, and returned.
        """
        now = now or timezone.now()
        with transaction.atomic():
            locked = _locked(article)
            problems = self.check(locked, by, **options)
            if problems:
                raise WorkflowRefused(locked, problems)
            message = self.execute(locked, by=by, now=now, **options)
            locked.version += 1
            locked.save()
            if message:
                log_step(locked, by, message, now)
            if self.changes_live_text:
                # Inside the transaction: the search index moves with the live text.
                live_revision_changed.send(sender=Article, article=locked)
        for field in Article._meta.concrete_fields:
            setattr(article, field.attname, getattr(locked, field.attname))
        return article


class InReviewStep(Step):
    """A step on the revision in review (verdicts, certainty, dismissals)."""

    permission = "review_article"

    def state_problems(self, article):
        if article.status != Status.IN_REVIEW or article.draft is None:
            return [
                Problem(
                    "state",
                    f"It is not in review (status: {article.get_status_display()}), "
                    f"so you cannot {self.doing}.",
                )
            ]
        return []


# Drafting -------------------------------------------------------------------------------


class SaveDraft(Step):
    """Store the working text in the open draft revision, creating one (numbered after the
    last revision) when there is none or the open one was already submitted, so a submitted
    or live revision is never changed."""

    name, label = "save_draft", "Save draft"
    permission, doing = "change_article", "edit articles"

    def state_problems(self, article):
        if article.status in (Status.IN_REVIEW, Status.APPROVED):
            return [
                Problem(
                    "state",
                    f"It is {article.get_status_display().lower()}: its text is frozen until "
                    "the review ends.",
                )
            ]
        return []

    def execute(self, article, *, by, now, title, summary, body, parsed=None):
        parsed = parsed if parsed is not None else parse(body)
        revision = article.draft
        if revision is None or revision.is_frozen():
            last = article.revisions.aggregate(last=Max("number"))["last"] or 0
            revision = ArticleRevision(article=article, number=last + 1, created_by=by)
        revision.title, revision.summary, revision.body = title, summary, body
        revision.rendered_html = parsed.html
        revision.content_hash = revision.compute_content_hash()
        revision.save()
        sync_claims(revision, parsed)
        if article.draft_id != revision.pk:
            article.draft, article.status = revision, Status.DRAFT
        return ""  # the admin logs its own "Changed …" entry


def sync_claims(revision: ArticleRevision, parsed: ParsedBody) -> None:
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
            claim.kind, claim.certainty, claim.certainty_wording = kept["certainty"]
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
        Claim.objects.bulk_update(kept_certainty, ["kind", "certainty", "certainty_wording"])


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
                kept["certainty"] = (
                    citation.claim.kind,
                    citation.claim.certainty,
                    citation.claim.certainty_wording,
                )
            # A study changed since it was reviewed needs a fresh verdict.
            if citation.verdict and not citation.study_changed_since_review():
                kept[citation.study.key] = (
                    citation.verdict,
                    citation.verdict_note,
                    citation.verdict_by_id,
                    citation.verdict_at,
                )
    return found


# Review ---------------------------------------------------------------------------------


class SubmitForReview(Step):
    """Freeze the open draft as an immutable revision and hand it to the reviewers."""

    name, label = "submit_for_review", "Submit for review"
    permission, doing = "submit_article", "submit articles for review"

    def state_problems(self, article):
        if article.status not in (Status.DRAFT, Status.UNPUBLISHED) or article.draft is None:
            return [
                Problem(
                    "state",
                    "Only a draft can be submitted; "
                    f"this article is {article.get_status_display()}.",
                )
            ]
        if article.draft.is_frozen():
            return [
                Problem("state", "This revision was already submitted: edit the article first.")
            ]
        return []

    def rule_problems(self, article, user, **options):
        return body_problems(article.draft)

    def execute(self, article, *, by, now):
        revision = article.draft
        revision.submitted_by, revision.submitted_at = by, now
        revision.content_hash = revision.compute_content_hash()
        revision.save(update_fields=["submitted_by", "submitted_at", "content_hash"])
        # Studies stay as reviewed: live pages render this copy, not later library edits.
        Citation.objects.filter(claim__revision=revision).record_studies_as_reviewed()
        article.status = Status.IN_REVIEW
        return f"Submitted revision {revision.number} for review."


class RecordVerdict(InReviewStep):
    """Record whether the cited study supports the claim, on a revision in review."""

    name, label, doing = "record_verdict", "Record verdict", "record verdicts"

    def rule_problems(self, article, user, *, citation, verdict, note=""):
        return verdict_problems(article, citation, verdict, note)

    def execute(self, article, *, by, now, citation, verdict, note=""):
        citation.verdict, citation.verdict_note = verdict, note.strip()
        citation.verdict_by, citation.verdict_at = by, now
        citation.save(update_fields=["verdict", "verdict_note", "verdict_by", "verdict_at"])
        return ""


def verdict_problems(
    article: Article, citation: Citation, verdict: str, note: str = ""
) -> list[Problem]:
    """What is wrong with recording `verdict` (and `note`) on `citation`."""
    if citation.claim.revision_id != article.draft_id:
        return [Problem("not_in_revision", "That citation is not in the revision under review.")]
    return verdict_value_problems(verdict, note)


def verdict_value_problems(verdict: str, note: str = "") -> list[Problem]:
    """What is wrong with a verdict and its note, wherever the citation is."""
    if verdict not in Verdict.values:
        return [Problem("invalid_verdict", f"“{verdict[:40]}” is not a verdict.")]
    if problems := text_problems(note, what="note", limit=NOTE_MAX_LENGTH, code="bad_note"):
        return problems
    if verdict != Verdict.SUPPORTS and not note.strip():
        return [
            Problem(
                "note_required", "Say in a note why the study does not fully support the claim."
            )
        ]
    return []


class SetCertainty(InReviewStep):
    """Rate the certainty of the evidence for a claim (GRADE), with patient-facing words."""

    name, label, doing = "set_certainty", "Rate certainty", "rate certainty"

    def rule_problems(self, article, user, *, claim, certainty, wording="", kind=None):
        return certainty_problems(article, claim, certainty, wording) or wording_fit_problems(
            claim, certainty, wording, kind
        )

    def execute(self, article, *, by, now, claim, certainty, wording="", kind=None):
        claim.certainty, claim.certainty_wording = certainty, wording.strip()
        if kind is not None:
            claim.kind = kind
        claim.save(update_fields=["kind", "certainty", "certainty_wording"])
        return ""


def certainty_problems(
    article: Article, claim: Claim, certainty: str, wording: str = ""
) -> list[Problem]:
    """What is wrong with rating `claim` as `certainty`, explained to patients as `wording`."""
    if claim.revision_id != article.draft_id:
        return [Problem("not_in_revision", "That claim is not in the revision under review.")]
    return certainty_value_problems(claim, certainty, wording)


def certainty_value_problems(claim: Claim, certainty: str, wording: str = "") -> list[Problem]:
    """What is wrong with a certainty and its wording as values, wherever the claim is."""
    if certainty and certainty not in Certainty.values:
        return [Problem("invalid_certainty", f"“{certainty[:40]}” is not a GRADE certainty.")]
    if problems := text_problems(
        wording, what="wording", limit=WORDING_MAX_LENGTH, code="wording_too_long"
    ):
        return problems
    if wording.strip() and not certainty:
        return [Problem("wording_without_certainty", "Choose a certainty for the wording.")]
    return []


def wording_fit_problems(claim: Claim, certainty: str, wording: str, kind=None) -> list[Problem]:
    """Honest certainty: the wording must fit the claim's kind and its studies (`Claim.clean`).
    Sets the values on `claim` (unsaved) to check them."""
    claim.certainty, claim.certainty_wording = certainty, wording.strip()
    if kind is not None:
        claim.kind = kind
    try:
        claim.full_clean(exclude=["revision", "answer", "text", "text_hash", "ordinal"])
    except ValidationError as error:
        return [
            Problem(getattr(item, "code", None) or "invalid", str(message))
            for field_errors in error.error_dict.values()
            for item in field_errors
            for message in item
        ]
    return []


class AddComment(Step):
    """Comment on the article as a whole; the author sees it beside the verdicts."""

    name, label = "add_comment", "Add comment"
    permission, doing = "review_article", "comment on reviews"

    def state_problems(self, article):
        if article.working_revision is None:
            return [Problem("state", "It has no revision to comment on.")]
        return []

    def rule_problems(self, article, user, *, body):
        if not body.strip():
            return [Problem("empty_comment", "A comment cannot be empty.")]
        return text_problems(body, what="comment", limit=COMMENT_MAX_LENGTH, code="bad_comment")

    def execute(self, article, *, by, now, body):
        ReviewComment.objects.create(
            article=article,
            revision=article.working_revision,
            author=by,
            body=body.strip(),
            created_at=now,
        )
        return ""


class DismissLintFinding(InReviewStep):
    """Record that a flagged sentence is not a health claim (who and when)."""

    name, label, doing = "dismiss_lint_finding", "Not a claim", "dismiss linter warnings"

    def rule_problems(self, article, user, *, fingerprint, reason=""):
        if _finding(article.draft, fingerprint) is None:
            return [Problem("unknown_finding", "That warning is not on the revision under review.")]
        return text_problems(
            reason, what="reason", limit=DISMISSAL_REASON_MAX_LENGTH, code="bad_reason"
        )

    def execute(self, article, *, by, now, fingerprint, reason=""):
        finding = _finding(article.draft, fingerprint)
        LintDismissal.objects.get_or_create(
            article=article,
            fingerprint=fingerprint,
            defaults={
                "revision": article.draft,
                "sentence": finding.sentence,
                "reason": reason.strip(),
                "dismissed_by": by,
                "dismissed_at": now,
            },
        )
        return f"Dismissed a linter warning as not a claim: “{finding.sentence}”"


def _finding(revision, fingerprint):
    return next((f for f in revision_findings(revision) if f.fingerprint == fingerprint), None)


def open_lint_findings(article, revision=None):
    """Linter warnings on the revision that no reviewer has dismissed yet."""
    revision = revision or article.working_revision
    if revision is None:
        return []
    dismissed = set(article.lint_dismissals.values_list("fingerprint", flat=True))
    return [
        finding for finding in revision_findings(revision) if finding.fingerprint not in dismissed
    ]


class RequestChanges(Step):
    """Send the article back to its author, with an optional comment."""

    name, label = "request_changes", "Request changes"
    permission, doing = "review_article", "request changes"

    def state_problems(self, article):
        if article.status not in (Status.IN_REVIEW, Status.APPROVED) or article.draft is None:
            return [
                Problem(
                    "state",
                    "Only an article in review can be sent back; "
                    f"it is {article.get_status_display()}.",
                )
            ]
        return []

    def rule_problems(self, article, user, *, comment=""):
        return text_problems(comment, what="comment", limit=COMMENT_MAX_LENGTH, code="bad_comment")

    def execute(self, article, *, by, now, comment=""):
        revision = article.draft
        if comment.strip():
            ReviewComment.objects.create(
                article=article,
                revision=revision,
                author=by,
                body=comment.strip(),
                created_at=now,
            )
        if revision.approved_at:
            revision.approved_by = revision.approved_at = None
            revision.approved_hash = ""
            revision.save(update_fields=["approved_by", "approved_at", "approved_hash"])
        article.status = Status.CHANGES_REQUESTED
        return f"Requested changes to revision {revision.number}."


# The publishing gate --------------------------------------------------------------------


def body_problems(revision: GatedText) -> list[Problem]:
    """Marker or Markdown errors in the revision's (or answer's) body."""
    errors = parse(revision.body).errors
    if not errors:
        return []
    return [
        Problem(
            "body_errors",
            f"The body has {len(errors)} marker or Markdown error(s), first: {errors[0].message}",
        )
    ]


def evidence_problems(revision: GatedText) -> list[Problem]:
    """Claims without citations or without a 'supports' verdict, retracted or undescribed
    studies, and patient wordings that do not fit their claim and studies."""
    problems = []
    claims = list(revision.claims.prefetch_related("citations__study"))
    uncited = [claim.ordinal for claim in claims if not claim.citations.all()]
    if uncited:
        problems.append(Problem("uncited_claim", f"Claim(s) {_numbers(uncited)} have no citation."))
    unsupported = [
        f"claim {claim.ordinal} → {citation.study.key} "
        f"({citation.get_verdict_display().lower() if citation.verdict else 'no verdict yet'})"
        for claim in claims
        for citation in claim.citations.all()
        if citation.verdict != Verdict.SUPPORTS
    ]
    if unsupported:
        problems.append(
            Problem(
                "unsupported_citation",
                f"{len(unsupported)} citation(s) lack a “supports” verdict: "
                + "; ".join(unsupported[:5])
                + ("; …" if len(unsupported) > 5 else "")
                + ".",
            )
        )
    retracted = sorted(
        {c.study.key for claim in claims for c in claim.citations.all() if c.study.is_retracted}
    )
    if retracted:
        problems.append(
            Problem("retracted_study", f"It cites retracted studies: {', '.join(retracted)}.")
        )
    undescribed = sorted(
        {
            c.study.key
            for claim in claims
            for c in claim.citations.all()
            if not c.study.is_described()
        }
    )
    if undescribed:
        # An imported study has no type or finding until a reviewer sets them.
        problems.append(
            Problem(
                "undescribed_study",
                "A reviewer must set the type and plain-language finding of: "
                + ", ".join(undescribed)
                + ".",
            )
        )
    # Judged again here, as when a reviewer chooses it: a wording carried over from the last
    # revision may no longer fit a study that has changed since (`Claim.clean`).
    unfit = [
        (claim.ordinal, problem)
        for claim in claims
        if claim.certainty_wording
        and (
            problem := wording_problem(
                claim.certainty_wording,
                facts_of([citation.study for citation in claim.citations.all()]),
                claim.kind,
            )
        )
    ]
    if unfit:
        problems.append(
            Problem(
                "unfit_wording",
                f"Choose the patient wording of claim(s) {_numbers(o for o, _p in unfit)} "
                f"again: {unfit[0][1]}",
            )
        )
    return problems


def _numbers(values):
    return ", ".join(str(value) for value in values)


def reviewer_problems(article, revision, by, today=None) -> list[Problem]:
    """The approver must be an independent reviewer with current, verified credentials."""
    problems = []
    if by.pk in (article.author_id, revision.created_by_id, revision.submitted_by_id):
        problems.append(Problem("own_article", "A reviewer cannot approve an article they wrote."))
    return problems + credential_problems(by, today)


def credential_problems(by, today=None) -> list[Problem]:
    """The approver needs a reviewer profile whose registration was verified in 12 months."""
    problems = []
    profile = ReviewerProfile.objects.filter(user=by).first()
    if profile is None:
        problems.append(
            Problem(
                "no_reviewer_profile",
                "You have no reviewer profile: add your registration details before approving.",
            )
        )
    elif not profile.is_verification_current(today):
        problems.append(
            Problem(
                "verification_expired",
                f"Your registration was last verified on {date_format(profile.verified_on)}, more "
                "than 12 months ago: ask an administrator to re-verify it before approving.",
            )
        )
    return problems


class Approve(Step):
    """Approve the revision in review: records who, when and the hash of exactly that text."""

    name, label = "approve", "Approve"
    permission, doing = "approve_article", "approve articles"

    def state_problems(self, article):
        if article.status != Status.IN_REVIEW or article.draft is None:
            return [
                Problem(
                    "state",
                    "Only an article in review can be approved; "
                    f"it is {article.get_status_display()}.",
                )
            ]
        return []

    def rule_problems(self, article, user, *, next_review_due_on=None, today=None):
        revision = article.draft
        problems = body_problems(revision) + evidence_problems(revision)
        unrated = list(
            revision.claims.filter(certainty="")
            .order_by("ordinal")
            .values_list("ordinal", flat=True)
        )
        if unrated:
            problems.append(
                Problem("unrated_claim", f"Claim(s) {_numbers(unrated)} have no certainty rating.")
            )
        open_findings = open_lint_findings(article, revision)
        if open_findings:
            problems.append(
                Problem(
                    "open_lint_warning",
                    f"{len(open_findings)} linter warning(s) are neither cited nor dismissed, "
                    f"e.g. “{open_findings[0].sentence}”.",
                )
            )
        problems += reviewer_problems(article, revision, user, today)
        if revision.content_hash != revision.compute_content_hash():
            problems.append(
                Problem("hash_mismatch", "The revision's content does not match its recorded hash.")
            )
        if next_review_due_on is not None and next_review_due_on <= (today or timezone.localdate()):
            problems.append(
                Problem("past_review_date", "The next review date must be a future date.")
            )
        return problems

    def run(self, article, *, by, now=None, **options):
        # The rules are judged on the day of approval (back-dated demo history included).
        now = now or timezone.now()
        return super().run(article, by=by, now=now, today=timezone.localdate(now), **options)

    def execute(self, article, *, by, now, next_review_due_on=None, today=None):
        revision = article.draft
        revision.approved_by, revision.approved_at = by, now
        revision.approved_hash = revision.content_hash
        revision.next_review_due_on = next_review_due_on or (
            timezone.localdate(now) + REVIEW_INTERVAL
        )
        revision.save(
            update_fields=["approved_by", "approved_at", "approved_hash", "next_review_due_on"]
        )
        # The article's reviewer and review dates describe the live text, so they change
        # when this revision is published, not now.
        article.status = Status.APPROVED
        return f"Approved revision {revision.number} ({revision.content_hash[:12]})."


class Publish(Step):
    """Make the approved revision live, exactly as approved; the old live one retires."""

    name, label = "publish", "Publish"
    changes_live_text = True
    permission, doing = "publish_article", "publish articles"

    def state_problems(self, article):
        if article.draft is None or not article.draft.approved_at:
            return [Problem("state", "Only an approved revision can be published.")]
        return []

    def rule_problems(self, article, user, **options):
        revision = article.draft
        problems = []
        if revision.approved_hash != revision.compute_content_hash():
            problems.append(
                Problem(
                    "hash_mismatch",
                    "The text differs from what was approved: it must be reviewed again.",
                )
            )
        problems += body_problems(revision)
        retracted = sorted(
            Study.objects.filter(citations__claim__revision=revision, is_retracted=True)
            .values_list("key", flat=True)
            .distinct()
        )
        if retracted:
            problems.append(
                Problem(
                    "retracted_study",
                    f"It cites studies retracted since approval: {', '.join(retracted)}.",
                )
            )
        return problems

    def execute(self, article, *, by, now):
        revision = article.draft
        if article.live_revision is not None:
            article.live_revision.retired_at = now
            article.live_revision.save(update_fields=["retired_at"])
        revision.published_by, revision.published_at, revision.retired_at = by, now, None
        revision.save(update_fields=["published_by", "published_at", "retired_at"])
        article.live_revision = revision
        article.draft = None
        article.status = Status.PUBLISHED
        article.first_published_at = article.first_published_at or now
        article.reviewer_id = revision.approved_by_id
        article.last_reviewed_on = timezone.localdate(revision.approved_at)
        article.next_review_due_on = revision.next_review_due_on
        return f"Published revision {revision.number}."


class Unpublish(Step):
    """Take the article off the public site; its revisions stay on record."""

    name, label = "unpublish", "Unpublish"
    changes_live_text = True
    permission, doing = "publish_article", "unpublish articles"

    def state_problems(self, article):
        if article.live_revision is None:
            return [Problem("state", "It is not published.")]
        return []

    def execute(self, article, *, by, now):
        live = article.live_revision
        live.retired_at = now
        live.save(update_fields=["retired_at"])
        article.live_revision = None
        if article.draft is None:
            # The last live text becomes the working copy, so staff can edit and resubmit it.
            article.draft = live
            article.status = Status.UNPUBLISHED
        # Otherwise a newer draft keeps its own place in the workflow (draft, in review…).
        return f"Unpublished revision {live.number}."


SAVE_DRAFT = SaveDraft()
SUBMIT_FOR_REVIEW = SubmitForReview()
RECORD_VERDICT = RecordVerdict()
SET_CERTAINTY = SetCertainty()
ADD_COMMENT = AddComment()
DISMISS_LINT_FINDING = DismissLintFinding()
REQUEST_CHANGES = RequestChanges()
APPROVE = Approve()
PUBLISH = Publish()
UNPUBLISH = Unpublish()

# The steps offered as buttons on the change page and as bulk actions on the list.
TRANSITIONS: dict[str, Step] = {
    step.name: step for step in [SUBMIT_FOR_REVIEW, REQUEST_CHANGES, APPROVE, PUBLISH, UNPUBLISH]
}


def available_transitions(article: Article, user: User | AnonymousUser) -> list[Step]:
    """The steps this user may try on this article now (the server re-checks each one)."""
    return [step for step in TRANSITIONS.values() if step.is_offered(article, user)]


# One function per step: the public contract ------------------------------------------


def save_draft(article, *, title, summary, body, by, parsed=None) -> ArticleRevision:
    """Store the working text of `article` in its open draft revision; returns the revision."""
    SAVE_DRAFT.run(article, by=by, title=title, summary=summary, body=body, parsed=parsed)
    return ArticleRevision.objects.get(pk=article.draft_id)


def submit_for_review(article, *, by, now=None) -> Article:
    """Freeze the open draft as an immutable revision and hand it to the reviewers."""
    return SUBMIT_FOR_REVIEW.run(article, by=by, now=now)


def record_verdict(citation, *, verdict, note="", by, now=None) -> Citation:
    """Record whether the cited study supports the claim, on a revision in review."""
    citation = Citation.objects.select_related("claim__revision").get(pk=citation.pk)
    RECORD_VERDICT.run(
        citation.claim.revision.article,
        by=by,
        now=now,
        citation=citation,
        verdict=verdict,
        note=note,
    )
    return citation


def set_certainty(claim, *, certainty, wording="", kind=None, by, now=None) -> Claim:
    """Rate the certainty of the evidence for a claim (GRADE), with patient-facing words
    that must fit the claim's kind and studies (`Claim.clean`); `kind=None` keeps it."""
    claim = Claim.objects.select_related("revision").get(pk=claim.pk)
    SET_CERTAINTY.run(
        claim.revision.article,
        by=by,
        now=now,
        claim=claim,
        certainty=certainty,
        wording=wording,
        kind=kind,
    )
    return claim


def add_comment(article, *, body, by, now=None) -> ReviewComment:
    """Comment on the article as a whole; the author sees it beside the verdicts."""
    ADD_COMMENT.run(article, by=by, now=now, body=body)
    return article.comments.latest("created_at", "pk")


def dismiss_lint_finding(article, *, fingerprint, by, reason="", now=None) -> LintDismissal:
    """Record that a flagged sentence is not a health claim (who and when)."""
    DISMISS_LINT_FINDING.run(article, by=by, now=now, fingerprint=fingerprint, reason=reason)
    return article.lint_dismissals.get(fingerprint=fingerprint)


def request_changes(article, *, by, comment="", now=None) -> Article:
    """Send the article back to its author, with an optional comment."""
    return REQUEST_CHANGES.run(article, by=by, now=now, comment=comment)


def approve(article, *, by, next_review_due_on: date | None = None, now=None) -> Article:
    """Approve the revision in review: records who, when and the hash of exactly that text."""
    return APPROVE.run(article, by=by, now=now, next_review_due_on=next_review_due_on)


def publish(article, *, by, now=None) -> Article:
    """Make the approved revision live, exactly as approved; the old live one retires."""
    return PUBLISH.run(article, by=by, now=now)


def unpublish(article, *, by, now=None) -> Article:
    """Take the article off the public site; its revisions stay on record."""
    return UNPUBLISH.run(article, by=by, now=now)


def live_revision_on(article, moment):
    """The revision that was live at `moment`, or None."""
    return (
        article.revisions.filter(published_at__lte=moment)
        .exclude(retired_at__lte=moment)
        .order_by("-published_at")
        .first()
    )
