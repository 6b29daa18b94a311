"""Shared fixtures: factories for studies, articles and staff users."""

import itertools

import pytest
from django.contrib.auth.models import Group

from articles import workflow
from articles.models import Article, Study, StudyType, Topic

_numbers = itertools.count(1)


@pytest.fixture
def make_user(django_user_model):
    """Create a staff user, optionally in named groups (created by the migrations)."""

    def make(username=None, groups=(), **fields):
        username = username or f"user{next(_numbers)}"
        fields.setdefault("is_staff", True)
        fields.setdefault("first_name", username.title())
        fields.setdefault("last_name", "Tester")
        user = django_user_model.objects.create_user(
            username=username, password="pw-for-tests", **fields
        )
        for name in groups:
            user.groups.add(Group.objects.get(name=name))
        return user

    return make


@pytest.fixture
def make_study():
    def make(key=None, **fields):
        number = next(_numbers)
        fields.setdefault("authors", "Tester A, Example B")
        fields.setdefault("title", f"A trial of something number {number}")
        fields.setdefault("journal", "Journal of Tests")
        fields.setdefault("year", 2020)
        fields.setdefault("study_type", StudyType.RCT)
        fields.setdefault("finding", "It helped a little, for a short time.")
        return Study.objects.create(key=key or f"study{number}", **fields)

    return make


@pytest.fixture
def make_article(make_user, make_study):
    """Create an article through the workflow; `citations=N` writes N cited claims."""

    def make(
        slug=None,
        *,
        title="Acupuncture and back pain",
        summary="What studies found.",
        body=None,
        citations=3,
        publish=True,
        author=None,
        topic=None,
        **fields,
    ):
        author = author or make_user()
        if body is None:
            studies = [make_study() for _ in range(citations)]
            body = "\n\n".join(
                f"Claim number {i} about back pain [@{study.key}]."
                for i, study in enumerate(studies, start=1)
            )
        if topic is None:
            topic, _ = Topic.objects.get_or_create(slug="evidence", defaults={"name": "Evidence"})
        article = Article.objects.create(
            slug=slug or f"article-{next(_numbers)}", author=author, topic=topic, **fields
        )
        workflow.save_draft(article, title=title, summary=summary, body=body, by=author)
        if publish:
            workflow.publish(article, by=author)
        article.refresh_from_db()
        return article

    return make
