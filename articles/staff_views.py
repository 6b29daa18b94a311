"""Staff-only views on articles, served inside the admin: preview, review, history, diff, dossier.

Each view checks the same permission as the article's admin page (view permission on that
article) on the server, so a link that leaks never shows what its holder may not see. Every
change goes through `articles.workflow`; these views only read requests and render results.
"""

import difflib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from questions.models import PublicAnswer

from . import workflow
from .diff import line_diff
from .forms import CitationReviewFormSet, ClaimReviewFormSet
from .freshness import freshness_hints
from .lint import revision_findings
from .models import (
    Article,
    ArticleRevision,
    Citation,
    Claim,
    ReviewerProfile,
    Status,
)
from .study_admin_views import export_response
from .views import article_page_context

EARLIEST_DOSSIER_YEAR = 1900
REVIEW_TRANSITIONS = ("request_changes", "approve")


class ArticleStaffViewsMixin:
    """Adds the staff views to ArticleAdmin's URLs, wrapped in the admin's login check."""

    if TYPE_CHECKING:
        # Provided by ArticleAdmin, which this mixes into: the same step runner as the
        # change list's bulk actions.
        def run_transition(
            self, request: HttpRequest, queryset: QuerySet[Article], name: str
        ) -> bool: ...

    def get_urls(self):
        wrap = self.admin_site.admin_view
        info = self.opts.app_label, self.opts.model_name
        views = [
            ("<int:object_id>/preview/", self.preview_view, "preview"),
            ("<int:object_id>/preview/<int:number>/", self.preview_view, "preview_revision"),
            ("<int:object_id>/review/", self.review_view, "review"),
            ("<int:object_id>/revisions/", self.revisions_view, "revisions"),
            ("<int:object_id>/compare/", self.compare_view, "compare"),
            ("<int:object_id>/dossier/", self.dossier_view, "dossier"),
            ("<int:object_id>/references/<str:fmt>/", self.references_view, "references"),
        ]
        return [
            *(
                path(route, wrap(view), name="{}_{}_{}".format(*info, name))
                for route, view, name in views
            ),
            *super().get_urls(),
        ]

    def get_article_or_403(self, request, object_id):
        article = get_object_or_404(
            Article.objects.select_related("draft", "live_revision", "author", "reviewer"),
            pk=object_id,
        )
        if not self.has_view_permission(request, article):
            raise PermissionDenied
        return article

    def staff_context(self, request, article, title, **extra):
        """The admin chrome's context for a page about one article."""
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": article,
            "article": article,
            "title": title,
            **extra,
        }

    # Preview -----------------------------------------------------------------------------

    @method_decorator(never_cache)
    def preview_view(self, request, object_id, number=None):
        """The article exactly as patients would see it, for the working or any revision."""
        article = self.get_article_or_403(request, object_id)
        if number is None:
            revision = article.working_revision
            if revision is None:
                raise Http404("This article has no text yet.")
        else:
            revision = get_object_or_404(article.revisions, number=number)
        context = article_page_context(request, article, revision)
        context["preview"] = True
        response = TemplateResponse(request, "articles/article_detail.html", context)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    # Review ------------------------------------------------------------------------------

    @method_decorator(never_cache)
    def review_view(self, request, object_id):
        """Claims beside their studies, with verdicts, certainty, linter warnings, comments
        and the approval checklist. Authors see it read-only; reviewers record their review.

        The whole screen is one form, so every button first saves the verdicts and
        certainty typed (or refuses with everything kept), then does its own job."""
        article = self.get_article_or_403(request, object_id)
        if request.method == "POST":
            if not request.user.has_perm("articles.review_article"):
                raise PermissionDenied
            return self._review_post(request, article)
        return self._render_review(request, article)

    def references_view(self, request, object_id, fmt):
        """The studies the revision under review (else the live one) cites, for a reference
        manager, in order of first citation."""
        article = self.get_article_or_403(request, object_id)
        revision = review_revision(article)
        studies = []
        if revision is not None:
            for citation in Citation.objects.filter(claim__revision=revision).select_related(
                "study"
            ):
                if citation.study not in studies:
                    studies.append(citation.study)
        return export_response(studies, fmt, f"{article.slug}-references")

    def _review_post(self, request, article):
        here = reverse("admin:articles_article_review", args=[article.pk])
        forms = review_forms(article, request.user, request.POST)
        if "_save_review" in request.POST and forms is None:
            messages.error(
                request,
                f"Nothing was saved: “{article.title}” is not in review "
                f"(status: {article.get_status_display()}).",
            )
            return HttpResponseRedirect(here)
        if forms is not None and forms.is_bound:
            saved = forms.save(request.user) if forms.is_valid() else None
            if saved is None:
                return self._render_review(request, article, forms=forms, status=400)
            if saved:
                messages.success(
                    request, f"Saved {saved} change(s) to the review of “{article.title}”."
                )
            elif "_save_review" in request.POST:
                messages.info(request, "Nothing had changed, so nothing was saved.")
        if "_save_review" in request.POST or self._review_action(request, article):
            return HttpResponseRedirect(here)
        # Refused: show the page again with what was typed in the other boxes kept.
        article = self.get_article_or_403(request, article.pk)
        return self._render_review(request, article, status=400)

    def _review_action(self, request, article) -> bool:
        """Do what the pressed button asks (besides saving); False when it was refused."""
        post = request.POST
        try:
            if "_dismiss" in post:
                fingerprint = post["_dismiss"]
                dismissal = workflow.dismiss_lint_finding(
                    article,
                    fingerprint=fingerprint,
                    by=request.user,
                    reason=post.get(f"reason-{fingerprint}", ""),
                )
                messages.success(request, f"Recorded as not a claim: “{dismissal.sentence}”")
            elif "_comment" in post:
                workflow.add_comment(article, body=post.get("body", ""), by=request.user)
                messages.success(request, "Your comment was added.")
            elif post.get("_transition") in REVIEW_TRANSITIONS:
                article_only = Article.objects.filter(pk=article.pk)
                return self.run_transition(request, article_only, post["_transition"])
            else:
                messages.error(request, "That request was not understood; nothing was changed.")
                return False
        except workflow.WorkflowRefused as refusal:
            doing = "Dismissal" if "_dismiss" in post else "Comment"
            messages.error(request, f"{doing} refused for {refusal}")
            return False
        return True

    def _render_review(self, request, article, forms=None, status=200):
        revision = review_revision(article)
        if forms is None:
            forms = review_forms(article, request.user)
        claims = review_claims(revision) if revision else []
        if forms is not None:
            forms.attach(claims)
        citations = [citation for claim in claims for citation in claim.citations.all()]
        hints = freshness_hints({citation.study for citation in citations})
        for citation in citations:
            citation.freshness_hints = hints[citation.study.pk]
        dismissals = list(article.lint_dismissals.select_related("dismissed_by", "revision"))
        dismissed = {dismissal.fingerprint: dismissal for dismissal in dismissals}
        findings = revision_findings(revision) if revision else []
        posted = request.POST if request.method == "POST" else {}
        context = self.staff_context(
            request,
            article,
            f"Review: {article.title}",
            revision=revision,
            claims=claims,
            forms=forms,
            can_review=forms is not None,
            can_approve=request.user.has_perm("articles.approve_article"),
            open_findings=[
                (finding, posted.get(f"reason-{finding.fingerprint}", ""))
                for finding in findings
                if finding.fingerprint not in dismissed
            ],
            dismissals=dismissals,
            comments=article.comments.select_related("author", "revision"),
            checklist=self.checklist(request, article),
            review_errors=forms.error_summary() if forms is not None and forms.is_bound else [],
            posted=posted,
        )
        return TemplateResponse(request, "admin/articles/review.html", context, status=status)

    def checklist(self, request, article):
        """What still blocks approval. Users who cannot approve see the article's own problems,
        without the checks about who approves (which would be about them)."""
        if article.status != Status.IN_REVIEW or article.draft is None:
            return None
        problems = workflow.APPROVE.rule_problems(article, request.user)
        if not request.user.has_perm("articles.approve_article"):
            problems = [p for p in problems if p.code not in workflow.REVIEWER_CODES]
        return problems

    # History -----------------------------------------------------------------------------

    @method_decorator(never_cache)
    def revisions_view(self, request, object_id):
        """Every revision with who created, submitted, approved and published it, and the
        article's admin history (workflow steps), linter dismissals and comments."""
        article = self.get_article_or_403(request, object_id)
        revisions = list(
            article.revisions.select_related(
                "created_by", "submitted_by", "approved_by", "published_by"
            ).order_by("-number")
        )
        for index, revision in enumerate(revisions):
            revision.state = revision_state(article, revision)
            revision.previous = revisions[index + 1] if index + 1 < len(revisions) else None
        context = self.staff_context(
            request,
            article,
            f"Revisions: {article.title}",
            revisions=revisions,
            log_entries=article_log(article),
            dismissals=article.lint_dismissals.select_related("dismissed_by", "revision"),
            comments=article.comments.select_related("author", "revision"),
        )
        return TemplateResponse(request, "admin/articles/revisions.html", context)

    # Diff --------------------------------------------------------------------------------

    @method_decorator(never_cache)
    def compare_view(self, request, object_id):
        """A unified diff of title, summary and body between two revisions of this article,
        and what happened to each claim and its verdicts."""
        article = self.get_article_or_403(request, object_id)
        numbers = list(article.revisions.order_by("number").values_list("number", flat=True))
        if not numbers:
            raise Http404("This article has no revisions yet.")
        default_from, default_to = default_comparison(article, numbers)
        to_number = _revision_number(request.GET.get("to"), numbers, default_to)
        if request.GET.get("from") == "":
            from_number = None  # against nothing: the whole of `to` is new
        elif "from" in request.GET:
            from_number = _revision_number(request.GET["from"], numbers, None)
        elif "to" in request.GET:
            earlier = [number for number in numbers if number < to_number]
            from_number = earlier[-1] if earlier else None
        else:
            from_number = default_from
        revisions = {
            revision.number: revision
            for revision in article.revisions.filter(
                number__in=[n for n in (from_number, to_number) if n is not None]
            ).prefetch_related(_claims_prefetch())
        }
        old, new = revisions.get(from_number), revisions[to_number]
        context = self.staff_context(
            request,
            article,
            f"Compare revisions: {article.title}",
            old=old,
            new=new,
            numbers=numbers,
            fields=[
                ("Title", line_diff(old.title if old else "", new.title)),
                ("Summary", line_diff(old.summary if old else "", new.summary)),
                ("Body", line_diff(old.body if old else "", new.body)),
            ],
            claim_changes=compare_claims(
                list(old.claims.all()) if old else [], list(new.claims.all())
            ),
        )
        return TemplateResponse(request, "admin/articles/compare.html", context)

    # Dossier -----------------------------------------------------------------------------

    @method_decorator(never_cache)
    def dossier_view(self, request, object_id):
        """Everything about the text that was live at a moment, for a regulator, on one page."""
        article = self.get_article_or_403(request, object_id)
        raw = request.GET.get("at", "").strip()
        now = timezone.now()
        context = {
            "article": article,
            "at": raw or timezone.localdate(now).isoformat(),
            "generated_at": now,
            "generated_by": request.user,
            "periods": article.revisions.filter(published_at__isnull=False)
            .select_related("published_by")
            .order_by("published_at"),
        }
        try:
            moment = parse_moment(raw, now)
        except ValueError as error:
            context["error"] = str(error)
            return self._dossier_response(request, context, status=400)
        revision = workflow.live_revision_on(article, moment)
        context.update(moment=moment, revision=revision)
        if revision is not None:
            context.update(dossier_context(article, revision, moment))
            context["answers"] = answers_live_on(article, moment)
        return self._dossier_response(request, context)

    def _dossier_response(self, request, context, status=200):
        response = TemplateResponse(request, "admin/articles/dossier.html", context, status=status)
        response["X-Robots-Tag"] = "noindex, nofollow"
        if request.GET.get("download") and status == 200:
            revision = context.get("revision")
            name = f"dossier-{context['article'].slug}-{context['at'][:10]}"
            if revision is not None:
                name += f"-r{revision.number}"
            response["Content-Disposition"] = f'attachment; filename="{name}.html"'
        return response


# Review helpers ------------------------------------------------------------------------------


def review_revision(article):
    """The revision the review screen shows: the one in review (or sent back), else the
    working or live text for reading."""
    return article.draft or article.live_revision


def _citations():
    return Citation.objects.select_related("study", "verdict_by").order_by("position")


def _claims_prefetch():
    return Prefetch("claims__citations", queryset=_citations())


def review_claims(revision):
    """The revision's claims with their citations, studies and verdict authors in 2 queries."""
    return list(
        revision.claims.order_by("ordinal").prefetch_related(
            Prefetch("citations", queryset=_citations())
        )
    )


class ReviewForms:
    """The review screen's two model formsets over the revision in review: a verdict per
    citation and a certainty per claim. Saved through the workflow, all or nothing."""

    def __init__(self, revision: ArticleRevision, data: QueryDict | None = None):
        # A POST without the formsets (a bare dismissal or decision) carries no review input.
        if data is not None and "citation-TOTAL_FORMS" not in data:
            data = None
        self.is_bound = data is not None
        self.citations = CitationReviewFormSet(
            data,
            prefix="citation",
            queryset=Citation.objects.filter(claim__revision=revision)
            .select_related("claim", "study")
            .order_by("claim__ordinal", "position"),
        )
        self.claims = ClaimReviewFormSet(
            data,
            prefix="claim",
            # The wording choices read each claim's studies (articles.certainty).
            queryset=revision.claims.order_by("ordinal").prefetch_related("citations__study"),
        )

    def is_valid(self) -> bool:
        return all([self.citations.is_valid(), self.claims.is_valid()])

    def save(self, by) -> int | None:
        """Record each changed verdict and certainty; the number saved, or None (and the
        refusals as form errors) when the workflow refused any of them."""
        changed, refused = 0, False
        with transaction.atomic():
            for form in self.citations:
                if not form.has_review_change():
                    continue
                try:
                    workflow.record_verdict(
                        form.instance,
                        verdict=form.cleaned_data["verdict"],
                        note=form.cleaned_data["verdict_note"],
                        by=by,
                    )
                except workflow.WorkflowRefused as refusal:
                    refused = True
                    for problem in refusal.problems:
                        name = "verdict_note" if problem.code == "note_required" else "verdict"
                        form.add_error(name, ValidationError(problem.message, code=problem.code))
                else:
                    changed += 1
            for claim_form in self.claims:
                if not claim_form.has_review_change():
                    continue
                try:
                    workflow.set_certainty(
                        claim_form.instance,
                        certainty=claim_form.cleaned_data["certainty"],
                        wording=claim_form.cleaned_data["certainty_wording"],
                        kind=claim_form.cleaned_data.get("kind", ""),
                        by=by,
                    )
                except workflow.WorkflowRefused as refusal:
                    refused = True
                    for problem in refusal.problems:
                        name = {
                            "wording_too_long": "wording_text",
                            "wording_unfit": "wording",
                            "invalid": "kind",
                        }.get(problem.code, "certainty")
                        claim_form.add_error(
                            name, ValidationError(problem.message, code=problem.code)
                        )
                else:
                    changed += 1
            if refused:
                transaction.set_rollback(True)
        return None if refused else changed

    def attach(self, claims: list[Claim]) -> None:
        """Give each displayed claim and citation its form (display objects stay as saved)."""
        by_citation = {form.instance.pk: form for form in self.citations}
        by_claim = {form.instance.pk: form for form in self.claims}
        for claim in claims:
            claim.review_form = by_claim.get(claim.pk)
            for citation in claim.citations.all():
                citation.review_form = by_citation.get(citation.pk)

    def error_summary(self) -> list[tuple[str, str]]:
        """(field id, message) for the summary at the top, each naming its claim."""
        summary = []
        for formset in (self.citations, self.claims):
            summary += [("", str(message)) for message in formset.non_form_errors()]
            for form in formset:
                for name, errors in form.errors.items():
                    anchor = form[name].auto_id if name in form.fields else ""
                    summary += [(anchor, f"{form.subject}: {message}") for message in errors]
        return summary


def review_forms(article: Article, user, data: QueryDict | None = None) -> ReviewForms | None:
    """The review formsets when `user` may record verdicts on `article` now, else None."""
    # The gate passes only for an article in review, which always has a draft.
    if article.draft is None or workflow.RECORD_VERDICT.gate_problems(article, user):
        return None
    return ReviewForms(article.draft, data)


# History helpers -----------------------------------------------------------------------------


def revision_state(article, revision):
    """A short label for where a revision stands, and a CSS class for its badge."""
    if revision.pk == article.live_revision_id:
        return "live", "Live"
    if revision.retired_at:
        return "retired", "Was live"
    if revision.pk == article.draft_id:
        if article.status == Status.APPROVED or revision.approved_at:
            return "approved", "Approved"
        if article.status == Status.IN_REVIEW:
            return "in-review", "In review"
        if article.status == Status.CHANGES_REQUESTED:
            return "changes", "Changes requested"
        return "draft", "Draft"
    if revision.submitted_at:
        return "superseded", "Superseded"
    return "draft", "Abandoned draft"


def article_log(article, until=None):
    """The article's admin history (LogEntry), where the workflow records each step."""
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Article), object_id=str(article.pk)
    ).select_related("user")
    if until is not None:
        entries = entries.filter(action_time__lte=until)
    return entries.order_by("action_time", "pk")


# Diff helpers --------------------------------------------------------------------------------


def default_comparison(article, numbers):
    """The working draft against the live text when both exist, else the latest revision
    against the one before it."""
    draft, live = article.draft, article.live_revision
    if draft and live and draft.pk != live.pk:
        return live.number, draft.number
    latest = numbers[-1]
    return (numbers[-2] if len(numbers) > 1 else None), latest


def _revision_number(value, numbers, default):
    """A revision number of this article from the query string; anything else is a 404."""
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise Http404("No such revision.") from None
    if number not in numbers:
        raise Http404("No such revision.")
    return number


@dataclass
class ClaimChange:
    kind: str  # "unchanged", "changed", "added" or "removed"
    old: Claim | None = None
    new: Claim | None = None
    verdicts: list[tuple[str, str]] = field(default_factory=list)  # (study key, what happened)


def compare_claims(old_claims: list[Claim], new_claims: list[Claim]) -> list[ClaimChange]:
    """Match claims by wording: which were added, removed, reworded or kept, and for kept
    ones whether each verdict carried over unchanged."""
    matcher = difflib.SequenceMatcher(
        None, [c.text_hash for c in old_claims], [c.text_hash for c in new_claims], autojunk=False
    )
    changes = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        olds, news = old_claims[i1:i2], new_claims[j1:j2]
        if tag == "equal":
            changes += [
                ClaimChange("unchanged", old, new, verdict_changes(old, new))
                for old, new in zip(olds, news, strict=True)
            ]
            continue
        paired = min(len(olds), len(news)) if tag == "replace" else 0
        pairs = zip(olds[:paired], news[:paired], strict=True)
        changes += [ClaimChange("changed", old, new) for old, new in pairs]
        changes += [ClaimChange("removed", old=old) for old in olds[paired:]]
        changes += [ClaimChange("added", new=new) for new in news[paired:]]
    return changes


def verdict_changes(old: Claim, new: Claim) -> list[tuple[str, str]]:
    before = {citation.study.key: citation for citation in old.citations.all()}
    result: list[tuple[str, str]] = []
    for citation in new.citations.all():
        earlier = before.get(citation.study.key)
        if earlier is None:
            result.append((citation.study.key, "newly cited"))
        elif not citation.verdict:
            result.append((citation.study.key, "no verdict yet"))
        elif (citation.verdict, citation.verdict_note, citation.verdict_at) == (
            earlier.verdict,
            earlier.verdict_note,
            earlier.verdict_at,
        ):
            result.append((citation.study.key, f"kept: {citation.get_verdict_display()}"))
        else:
            result.append((citation.study.key, f"re-reviewed: {citation.get_verdict_display()}"))
    return result


# Dossier helpers -----------------------------------------------------------------------------


def answers_live_on(article, moment):
    """Public answers to patients' questions that were live under the article at `moment`,
    with their original and published questions, people, claims and verdicts."""
    return list(
        PublicAnswer.objects.live_on(moment)
        .filter(question__article=article)
        .select_related("question", "created_by", "approved_by", "published_by")
        .prefetch_related(Prefetch("claims__citations", queryset=_citations()))
        .order_by("published_at")
    )


def parse_moment(value, now):
    """The end of a date (YYYY-MM-DD) or an exact date-time, in the site's time zone; never
    later than now. Raises ValueError with a message for the page."""
    if not value:
        return now
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is not None:
        moment = timezone.make_aware(datetime.combine(day, time.max))
        if day == timezone.localdate(now):
            moment = now
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"“{value}” is not a date. Use the form YYYY-MM-DD, e.g. 2026-03-31, or a "
                "date and time such as 2026-03-31T14:30."
            ) from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
    # The year 1 with a UTC offset lies outside what datetime and the database can convert
    # (OverflowError); no article is that old, so anything before 1900 is refused.
    if moment.year < EARLIEST_DOSSIER_YEAR:
        raise ValueError(f"Choose a date after {EARLIEST_DOSSIER_YEAR}: {value} is too early.")
    try:
        in_future = moment > now
    except OverflowError:
        in_future = True
    if in_future:
        raise ValueError(f"{value} is in the future: a dossier records what was live in the past.")
    return moment


def dossier_context(article, revision, moment):
    """The record of one live revision: its people, claims, verdicts and the history."""
    claims = review_claims(revision)
    people = {revision.approved_by_id} | {
        citation.verdict_by_id for claim in claims for citation in claim.citations.all()
    }
    dismissals = {
        dismissal.fingerprint: dismissal
        for dismissal in article.lint_dismissals.filter(dismissed_at__lte=moment).select_related(
            "dismissed_by", "revision"
        )
    }
    findings = [
        (finding, dismissals.get(finding.fingerprint)) for finding in revision_findings(revision)
    ]
    return {
        "revision": ArticleRevision.objects.select_related(
            "created_by", "submitted_by", "approved_by", "published_by"
        ).get(pk=revision.pk),
        "claims": claims,
        "hash_now": revision.compute_content_hash(),
        "profiles": ReviewerProfile.objects.filter(user_id__in=people - {None}).select_related(
            "user"
        ),
        "findings": findings,
        "dismissals": list(dismissals.values()),
        "comments": article.comments.filter(created_at__lte=moment).select_related(
            "author", "revision"
        ),
        "log_entries": article_log(article, until=moment),
    }
