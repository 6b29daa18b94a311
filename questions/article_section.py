"""The "Questions from patients" section of an article page and its JSON-LD items."""

from django.db.models import Prefetch
from django.utils.html import strip_tags

from articles.evidence import build_references
from articles.models import Citation, Claim

from .models import PublicAnswer, published_answers


def answers_for(article) -> list[PublicAnswer]:
    """The article's live answers, oldest first, each with `.references` numbered as its
    citation links are (two queries: answers, then their claims and citations)."""
    citations = Citation.objects.select_related("study").order_by("position")
    answers = list(
        published_answers()
        .filter(question__article=article)
        .prefetch_related(
            Prefetch(
                "claims",
                queryset=Claim.objects.order_by("ordinal").prefetch_related(
                    Prefetch("citations", queryset=citations)
                ),
            )
        )
    )
    for answer in answers:
        answer.references = build_references(
            citation for claim in answer.claims.all() for citation in claim.citations.all()
        )
    return answers


def reviewer_of(answer) -> str:
    """The approving clinician's name as patients see it."""
    user = answer.approved_by
    profile = getattr(user, "reviewer_profile", None)
    return profile.display_name if profile else (user.get_full_name() or user.get_username())


def question_items(answers, canonical_url) -> list[dict]:
    """schema.org Question items, each with its accepted Answer."""
    return [
        {
            "@type": "Question",
            "@id": f"{canonical_url}#{answer.anchor}",
            "name": answer.question_text,
            "text": answer.question_text,
            "answerCount": 1,
            "acceptedAnswer": {
                "@type": "Answer",
                "text": strip_tags(answer.rendered_html).strip(),
                "datePublished": answer.published_at.isoformat(),
                "author": {"@type": "Person", "name": reviewer_of(answer)},
            },
        }
        for answer in answers
    ]
