"""The "Questions from patients" section of an article page and its JSON-LD items."""

from collections import defaultdict

from django.utils.html import strip_tags

from articles.evidence import build_references, retracted_references
from articles.models import Citation

from .models import PublicAnswer, published_answers


def answers_for(article) -> list[PublicAnswer]:
    """The article's live answers, oldest first, each with `.references` numbered as its
    citation links are (and `.retracted_references`, for the notice above the answer): one
    query, and one more for all their citations when there are any."""
    answers = list(published_answers().filter(question__article=article))
    if not answers:
        return answers
    by_answer = defaultdict(list)
    citations = (
        Citation.objects.filter(claim__answer__in=answers)
        .select_related("study", "claim")
        .order_by("claim__ordinal", "position")
    )
    for citation in citations:
        by_answer[citation.claim.answer_id].append(citation)
    for answer in answers:
        answer.references = build_references(by_answer[answer.pk])
        answer.retracted_references = retracted_references(answer.references)
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
