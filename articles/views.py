"""Public pages patients read: article list and page, and the study library."""

import json

from django.conf import settings
from django.db.models import Case, Count, Q, When
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.generic import DetailView, ListView

from clinic import page_cache
from questions import article_section

from . import navigation
from .evidence import build_references, retracted_references, summarise
from .models import Article, Citation, ReviewerProfile, Study, StudyType, Topic

# Characters that could close a <script> element or start an HTML comment inside JSON-LD.
_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def json_ld(data):
    """Serialise structured data for a <script type="application/ld+json"> element."""
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES))  # noqa: S308


def person_name(user):
    return (user.get_full_name() or user.get_username()) if user else ""


class ArticleListView(ListView):
    """Published articles, newest first, optionally for one topic."""

    template_name = "articles/article_list.html"
    context_object_name = "articles"
    paginate_by = 10

    def get_queryset(self):
        articles = Article.objects.published().with_live_content()
        self.topic = None
        if slug := self.request.GET.get("topic"):
            self.topic = get_object_or_404(Topic, slug=slug)
            articles = articles.filter(topic=self.topic)
        return articles

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            topic=self.topic,
            topics=Topic.objects.filter(articles__live_revision__isnull=False).distinct(),
            **kwargs,
        )


def live_claim_citations():
    """Citations belonging to live revisions, i.e. the claims patients can read now."""
    return Citation.objects.filter(
        claim__revision_id__in=Article.objects.published().values("live_revision_id")
    )


class ArticleDetailView(DetailView):
    """One article as a clinician approved it: the live revision, never the working draft."""

    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_queryset(self):
        # Only what the page shows outside its rendered parts: those are built from a full read
        # of the article (see article_fragments) once per revision and content generation.
        return (
            Article.objects.published()
            .select_related("live_revision", "topic")
            .only(
                "slug",
                "topic__slug",
                "topic__name",
                "live_revision__title",
                "live_revision__summary",
                "live_revision__published_at",
            )
        )

    def get_context_data(self, **kwargs):
        article = self.object
        return super().get_context_data(
            revision=article.live_revision,
            fragments=article_fragments(self.request, article),
            canonical_url=self.request.build_absolute_uri(article.get_absolute_url()),
            **kwargs,
        )


def article_fragments(request, article) -> dict:
    """The article page's review box, body, references, evidence summary, questions and
    JSON-LD, rendered once per revision and content generation (see `clinic.page_cache`): any
    change patients could see starts a new generation, so a stored fragment is never stale.
    The address is in the key because the canonical URL in the JSON-LD is absolute."""

    def build():
        # Read in full only now. The article may have been unpublished since it was looked up.
        full = Article.objects.published().with_live_content().filter(pk=article.pk).first()
        if full is None:
            raise Http404("No such article")
        context = article_page_context(request, full, full.live_revision)
        return {
            "review": render_to_string("articles/_article_review.html", context),
            "main": render_to_string("articles/_article_main.html", context),
            "json_ld": str(context["json_ld"]),
        }

    parts = ("article", article.live_revision_id, request.scheme, request.get_host())
    stored = page_cache.fragment(parts, build)
    # Rendered by our own templates from sanitised HTML and escaped JSON.
    return {name: mark_safe(html) for name, html in stored.items()}  # noqa: S308


def article_page_context(request, article, revision):
    """Everything the article page shows for one revision (live, or a staff preview)."""
    citations = (
        Citation.objects.filter(claim__revision=revision)
        .select_related("study", "claim")
        .order_by("claim__ordinal", "position")
    )
    references = build_references(citations)
    body = navigation.prepare(revision.rendered_html)
    for reference in references:
        reference.cited_at = body.cited_at.get(reference.number, ())
    sections = body.sections()
    related = (
        Article.objects.published()
        .select_related("live_revision")
        .filter(topic_id=article.topic_id)
        .exclude(pk=article.pk)[:3]
        if article.topic_id
        else []
    )
    canonical = request.build_absolute_uri(article.get_absolute_url())
    answers = article_section.answers_for(article)
    data = structured_data(article, revision, references, canonical)
    if answers:
        data["hasPart"] = article_section.question_items(answers, canonical)
    return {
        "article": article,
        "revision": revision,
        "references": references,
        # Sanitised by articles.body when the revision was saved; navigation adds only anchors.
        "body_html": mark_safe(body.html),  # noqa: S308
        "contents": sections if len(sections) >= settings.ARTICLE_CONTENTS_MIN_HEADINGS else (),
        "retracted_references": retracted_references(references),
        "evidence": summarise(references),
        "related": related,
        "canonical_url": canonical,
        "reviewer_name": reviewer_name(article),
        "answers": answers,
        "json_ld": json_ld(data),
    }


def reviewer_name(article):
    """The reviewer's name as patients see it: their profile's display name if they have one."""
    reviewer = article.reviewer
    if reviewer is None:
        return ""
    profile = getattr(reviewer, "reviewer_profile", None)
    return profile.display_name if profile else person_name(reviewer)


def structured_data(article, revision, references, canonical):
    """schema.org MedicalWebPage for the article page."""
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": revision.title,
        "headline": revision.title,
        "description": revision.summary,
        "url": canonical,
        "inLanguage": "en",
        "author": {"@type": "Person", "name": person_name(article.author)},
        "datePublished": article.first_published_at.isoformat()
        if article.first_published_at
        else None,
        "dateModified": revision.published_at.isoformat() if revision.published_at else None,
        "lastReviewed": article.last_reviewed_on.isoformat() if article.last_reviewed_on else None,
        "reviewedBy": {"@type": "Person", "name": reviewer_name(article)}
        if article.reviewer
        else None,
        "citation": [citation_data(reference.study) for reference in references],
    }
    return {key: value for key, value in data.items() if value is not None}


def citation_data(study):
    """A study as schema.org ScholarlyArticle."""
    data = {
        "@type": "ScholarlyArticle",
        "name": study.title,
        "author": study.authors,
    }
    if study.year:
        data["datePublished"] = str(study.year)
    if study.journal:
        data["isPartOf"] = {"@type": "Periodical", "name": study.journal}
    if study.doi:
        data["identifier"] = study.doi_url
    links = [url for url in (study.doi_url, study.pubmed_url, study.url) if url]
    if links:
        data["sameAs"] = links
    return data


def strongest_first():
    """An ordering expression: guidelines, then reviews, trials … as StudyType lists them."""
    return Case(
        *(When(study_type=value, then=rank) for rank, value in enumerate(StudyType.values)),
        default=len(StudyType.values),
    )


class StudyListView(ListView):
    """The study library for patients, optionally filtered by study type."""

    template_name = "articles/study_list.html"
    context_object_name = "studies"

    def get_queryset(self):
        live = Q(
            citations__claim__revision_id__in=Article.objects.published().values("live_revision_id")
        )
        studies = (
            Study.objects.described()
            .annotate(published_claims=Count("citations__claim", filter=live, distinct=True))
            .order_by(strongest_first(), "-year", "key")
        )
        self.study_type = self.request.GET.get("type", "")
        if self.study_type in StudyType.values:
            studies = studies.filter(study_type=self.study_type)
        else:
            self.study_type = ""
        return studies

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            study_types=StudyType.choices, study_type=self.study_type, **kwargs
        )


class StudyDetailView(DetailView):
    """One study: its reference, what it found, and the published claims that rest on it."""

    template_name = "articles/study_detail.html"
    context_object_name = "study"
    slug_field = "key"
    slug_url_kwarg = "key"
    queryset = Study.objects.described()

    def get_context_data(self, **kwargs):
        citations = (
            live_claim_citations()
            .filter(study=self.object)
            .select_related("claim__revision__article")
            .order_by("claim__revision__article__slug", "claim__ordinal")
        )
        return super().get_context_data(citations=citations, **kwargs)


class ReviewerDetailView(DetailView):
    """A medical reviewer's public credentials and the articles they reviewed."""

    template_name = "articles/reviewer_detail.html"
    context_object_name = "profile"
    queryset = ReviewerProfile.objects.select_related("user")

    def get_context_data(self, **kwargs):
        articles = (
            Article.objects.published()
            .select_related("live_revision")
            .filter(reviewer_id=self.object.user_id)
        )
        return super().get_context_data(articles=articles, **kwargs)
