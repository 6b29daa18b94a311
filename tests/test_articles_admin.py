"""The article and study admin: editing, citation validation, permissions, every page opens."""

import pytest
from django.contrib import admin
from django.urls import reverse

from articles import workflow
from articles.models import Article, Citation, Claim, Status, Study, StudyType
from tests.html_tree import citation_links, tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(make_user):
    return make_user("boss", is_superuser=True)


def article_form(**overrides):
    data = {
        "title": "Acupuncture and back pain",
        "slug": "acupuncture-back-pain",
        "summary": "What the studies found.",
        "body": "Acupuncture beat usual care at 8 weeks [@cherkin2009].",
        "topic": "",
        "reviewer": "",
    }
    data.update(overrides)
    return data


def test_every_admin_list_and_add_page_opens(client, superuser, make_article):
    make_article()
    client.force_login(superuser)
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, model
        if model_admin.has_add_permission(response.wsgi_request):
            assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200
        first = model.objects.first()
        if first is not None:
            url = reverse("admin:{}_{}_change".format(*info), args=[first.pk])
            assert client.get(url).status_code == 200, model


def test_author_creates_article_and_claims_follow_the_body(client, make_user, make_study):
    make_study("cherkin2009")
    make_study("haake2007")
    author = make_user("writer", groups=["Authors"])
    client.force_login(author)
    body = (
        "Needling beat usual care [@cherkin2009]. "
        "Sham needling did about as well [@haake2007; @cherkin2009, table 2]."
    )
    response = client.post(
        reverse("admin:articles_article_add"), article_form(body=body, author=author.pk)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get(slug="acupuncture-back-pain")
    assert article.status == Status.DRAFT and article.draft.title == "Acupuncture and back pain"
    claims = list(article.draft.claims.order_by("ordinal"))
    assert [claim.text for claim in claims] == [
        "Needling beat usual care",
        "Sham needling did about as well",
    ]
    assert list(claims[1].citations.values_list("study__key", "locator")) == [
        ("haake2007", ""),
        ("cherkin2009", "table 2"),
    ]

    # Editing the body keeps the claims in step: one removed, one changed.
    url = reverse("admin:articles_article_change", args=[article.pk])
    response = client.post(
        url,
        article_form(
            body="Only one claim now [@haake2007].", author=author.pk, base_version=article.version
        ),
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert list(article.draft.claims.values_list("text", flat=True)) == ["Only one claim now"]
    assert Citation.objects.filter(claim__revision=article.draft).count() == 1


def test_unknown_key_is_a_form_error_naming_the_key_and_keeps_the_text(
    client, superuser, make_study
):
    make_study("cherkin2009")
    client.force_login(superuser)
    body = "Real claim [@cherkin2009]. Another [@cherkn2009]."
    response = client.post(
        reverse("admin:articles_article_add"), article_form(body=body, author=superuser.pk)
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Line 1: unknown citation key “cherkn2009”" in html
    assert "Another [@cherkn2009]." in html  # the author's text is kept in the form
    assert not Article.objects.exists()


def test_malformed_marker_is_reported_not_dropped(client, superuser, make_study):
    make_study("cherkin2009")
    client.force_login(superuser)
    body = "Fine [@cherkin2009].\n\nBroken marker here [@cherkin2009 and more text."
    response = client.post(
        reverse("admin:articles_article_add"), article_form(body=body, author=superuser.pk)
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["body"]
    assert any("Line 3" in error for error in errors), errors
    assert not Claim.objects.exists()


def test_hostile_html_in_body_is_sanitised_on_the_public_page(client, make_study, make_article):
    make_study("cherkin2009")
    body = (
        "<script>alert('x')</script>\n\n"
        "[click](javascript:alert(1)) <img src=x onerror=alert(1)> "
        '<a href="javascript:alert(2)">raw</a>\n\n'
        "A claim [@cherkin2009]."
    )
    article = make_article(body=body, status="draft")
    html = article.draft.rendered_html
    assert "<script" not in html and "alert('x')" not in html
    assert "onerror" not in html and "javascript:" not in html
    assert citation_links(tree(html)) == ["ref-1"]
    # The forbidden link is an error in the body, so the article cannot even go to review.
    with pytest.raises(workflow.WorkflowRefused, match="javascript"):
        workflow.submit_for_review(article, by=article.author)


def test_author_cannot_publish(client, make_user, make_article):
    author = make_user("writer", groups=["Authors"])
    article = make_article(author=author, status="draft")
    client.force_login(author)
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "publish", "_selected_action": [article.pk]},
    )
    # Authors are not offered the action: the admin answers as for no action at all.
    assert response.status_code == 302
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert messages == ["No action selected."]
    article.refresh_from_db()
    assert not article.is_published()
    assert client.get(article.get_absolute_url()).status_code == 404


def test_reviewer_publishes_in_bulk_and_refusals_are_named(client, make_reviewer, make_article):
    reviewer = make_reviewer("doc")
    ready = make_article(status="approved", title="Ready one")
    retracted = make_article(status="approved", title="Cites a retracted study")
    study = Citation.objects.filter(claim__revision=retracted.draft).first().study
    Study.objects.filter(pk=study.pk).update(is_retracted=True)
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:articles_article_changelist"),
        {"action": "publish", "_selected_action": [ready.pk, retracted.pk]},
        follow=True,
    )
    messages = [str(message) for message in response.context["messages"]]
    assert "Publish: done for 1 article(s): Ready one" in messages
    assert any(
        message.startswith("Publish refused for “Cites a retracted study”")
        and "retracted since approval" in message
        for message in messages
    )
    ready.refresh_from_db()
    retracted.refresh_from_db()
    assert ready.is_published() and not retracted.is_published()


def test_study_admin_search_filters_and_citing_claims(client, superuser, make_study, make_article):
    make_study("cherkin2009", doi="10.1001/archinternmed.2009.65", pmid="19433697")
    make_study("other2020", study_type=StudyType.GUIDELINE, is_retracted=True)
    make_article(body="Needling beat usual care [@cherkin2009].")
    client.force_login(superuser)
    changelist = reverse("admin:articles_study_changelist")
    for query in ("cherkin", "ARCHINTERNMED.2009", "19433697"):
        html = client.get(changelist, {"q": query}).content.decode()
        assert "cherkin2009" in html and "other2020" not in html, query
    html = client.get(changelist, {"is_retracted__exact": "1"}).content.decode()
    assert "other2020" in html and "cherkin2009" not in html
    study = Study.objects.get(key="cherkin2009")
    html = client.get(reverse("admin:articles_study_change", args=[study.pk])).content.decode()
    assert "Needling beat usual care" in html


def test_study_doi_unique_case_insensitively_with_clear_message(client, superuser, make_study):
    make_study("first", doi="10.1001/ABC.123")
    client.force_login(superuser)
    response = client.post(
        reverse("admin:articles_study_add"),
        {
            "key": "second",
            "study_type": StudyType.RCT,
            "finding": "Something.",
            "authors": "A B",
            "title": "T",
            "year": 2020,
            "doi": "https://doi.org/10.1001/abc.123",
            "pmid": "",
            "citations-TOTAL_FORMS": 0,
            "citations-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "A study with this DOI is already in the library." in response.content.decode()
    assert Study.objects.count() == 1


def test_read_only_change_page_shows_the_text_under_review(client, make_article, make_reviewer):
    article = make_article(status="in_review", summary="A short summary.", citations=1)
    client.force_login(make_reviewer())
    url = reverse("admin:articles_article_change", args=[article.pk])
    html = client.get(url).content.decode()
    assert "A short summary." in html
    assert "Claim number 1 about back pain [@" in html
    assert 'name="body"' not in html  # not editable while in review


def test_only_reviewers_change_what_patients_read_about_a_study(client, make_user, make_study):
    study = make_study("cherkin2009", is_retracted=True, retraction_note="Withdrawn.")
    url = reverse("admin:articles_study_change", args=[study.pk])
    form = {
        "key": "cherkin2009",
        "study_type": StudyType.GUIDELINE,
        "finding": "It cured everyone.",
        "authors": "A B",
        "title": "Corrected title",
        "year": 2009,
        "doi": "",
        "pmid": "",
        "citations-TOTAL_FORMS": 0,
        "citations-INITIAL_FORMS": 0,
    }
    client.force_login(make_user("writer", groups=["Authors"]))
    assert 'name="is_retracted"' not in client.get(url).content.decode()
    assert client.post(url, form).status_code == 302
    study.refresh_from_db()
    assert study.title == "Corrected title"  # bibliographic details are the author's to fix
    assert study.is_retracted and study.finding != "It cured everyone."
    assert study.study_type == StudyType.RCT

    client.force_login(make_user("doc", groups=["Medical reviewers"]))
    client.post(url, {**form, "finding": "A fair finding.", "is_retracted": ""})
    study.refresh_from_db()
    assert not study.is_retracted and study.finding == "A fair finding."


@pytest.mark.parametrize("field", ["title", "summary"])
@pytest.mark.parametrize("marker", ["[@cherkin2009]", "[ @cherkin2009]", "[-@cherkin2009]"])
def test_citation_marker_in_title_or_summary_is_refused(
    client, superuser, make_study, field, marker
):
    make_study("cherkin2009")
    client.force_login(superuser)
    typed = f"Acupuncture cures back pain {marker}"
    response = client.post(
        reverse("admin:articles_article_add"),
        article_form(**{field: typed}, author=superuser.pk),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors[field]
    assert errors == [
        f"Citation markers work only in the body; the {field} is shown as plain text. "
        f"Move the claim and its marker into the body, or reword the {field}."
    ]
    assert typed in response.content.decode()  # the author's text is kept
    assert not Article.objects.exists()
