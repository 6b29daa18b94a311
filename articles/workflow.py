"""Operations on articles that span revisions, claims and citations.

Each function runs in one transaction and either does all of its work or refuses with
`WorkflowRefused`, whose message names the rule that failed and the article.
"""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .body import parse
from .models import (
    Article,
    ArticleRevision,
    Citation,
    Claim,
    Status,
    Study,
    claim_text_hash,
)


class WorkflowRefused(Exception):
    """An editorial rule stops this operation; the message says which, for which article."""

    def __init__(self, article, reasons):
        self.article = article
        self.reasons = list(reasons)
        super().__init__(f"“{article.title}”: " + " ".join(self.reasons))


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
        if article.draft_id != revision.pk:
            article.draft = revision
            article.status = Status.DRAFT
            article.save(update_fields=["draft", "status", "updated_at"])
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


def publication_problems(revision):
    """Reasons the revision cannot go live: body errors, uncited claims, retracted studies."""
    problems = []
    parsed = parse(revision.body)
    if parsed.errors:
        problems.append(
            f"The body has {len(parsed.errors)} citation or Markdown error(s), "
            f"first: {parsed.errors[0].message}"
        )
    claims = list(revision.claims.prefetch_related("citations__study"))
    if any(not claim.citations.all() for claim in claims):
        problems.append("A claim has no citation.")
    retracted = sorted(
        {
            citation.study.key
            for claim in claims
            for citation in claim.citations.all()
            if citation.study.is_retracted
        }
    )
    if retracted:
        problems.append(f"It cites retracted studies: {', '.join(retracted)}.")
    return problems


def publish(article, *, by, now=None):
    """Make the article's open draft the live revision patients see."""
    now = now or timezone.now()
    with transaction.atomic():
        article = Article.objects.select_for_update().select_related("draft").get(pk=article.pk)
        revision = article.draft
        if revision is None:
            raise WorkflowRefused(article, ["There is no draft to publish."])
        problems = publication_problems(revision)
        if problems:
            raise WorkflowRefused(article, problems)
        if not revision.is_frozen():
            revision.submitted_by, revision.submitted_at = by, now
        revision.content_hash = revision.compute_content_hash()
        revision.published_by, revision.published_at = by, now
        revision.save()
        article.live_revision = revision
        article.draft = None
        article.status = Status.PUBLISHED
        article.first_published_at = article.first_published_at or now
        article.save()
    return article


def unpublish(article, *, by):
    """Take the article off the public site; its revisions stay on record."""
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        if article.live_revision_id is None:
            raise WorkflowRefused(article, ["It is not published."])
        if article.draft_id is None:
            # Keep the last live text as the working copy so staff can edit and republish it.
            article.draft = article.live_revision
        article.live_revision = None
        article.status = Status.UNPUBLISHED
        article.save()
    return article
