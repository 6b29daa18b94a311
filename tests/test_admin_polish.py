"""The admin's finish: the clinic's name, helpful 403 and 404 pages, one date style, and a
history that says each thing once."""

import html
from datetime import date

import pytest
from django.template import Context, Template
from django.urls import reverse

from articles.models import Article
from clinic.models import ClinicDetails

pytestmark = pytest.mark.django_db


def text(response):
    return html.unescape(response.content.decode())


def test_admin_carries_the_clinic_name(client, admin_user):
    details = ClinicDetails.load()
    details.name = "Northgate Spine Clinic"
    details.save()
    login = text(client.get(reverse("admin:login")))
    assert "Northgate Spine Clinic" in login and "Django administration" not in login
    assert "<h1>Staff sign-in</h1>" in login
    client.force_login(admin_user)
    page = text(client.get(reverse("admin:index")))
    assert "Northgate Spine Clinic: staff admin" in page
    assert "Django site admin" not in page


def test_admin_404_is_styled_and_says_what_to_do(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/articles/article/999999/review/")
    assert response.status_code == 404
    page = text(response)
    assert "Page not found" in page and "search box" in page
    assert 'id="site-name"' in page  # the admin's own chrome


def test_admin_403_explains_how_to_get_access(client, make_user, make_article):
    article = make_article(status="draft")
    clinician = make_user(groups=["Clinical staff"])
    client.force_login(clinician)
    response = client.get(reverse("admin:articles_article_review", args=[article.pk]))
    assert response.status_code == 403
    page = text(response)
    assert "You cannot open this page" in page and "ask a clinic administrator" in page


def test_public_404_stays_the_patient_page(client):
    response = client.get("/admin-not-really/")
    assert response.status_code == 404
    assert "We could not find that page" in text(response)


def test_one_uk_date_style():
    rendered = Template("{{ d|date }}|{{ d|date:'SHORT_DATE_FORMAT' }}").render(
        Context({"d": date(2026, 3, 3)})
    )
    assert rendered == "3 March 2026|03/03/2026"


def test_history_says_added_once(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:articles_article_add"),
        {
            "title": "A new one",
            "slug": "a-new-one",
            "summary": "s",
            "body": "Plain words.",
            "author": admin_user.pk,
            "base_version": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get(slug="a-new-one")
    page = text(client.get(reverse("admin:articles_article_revisions", args=[article.pk])))
    assert "Added." in page and "Added. Added." not in page


def test_view_on_site_only_for_a_live_article(client, admin_user, make_article):
    client.force_login(admin_user)
    draft = make_article(status="draft")
    live = make_article(status="published")
    draft_page = text(client.get(reverse("admin:articles_article_change", args=[draft.pk])))
    live_page = text(client.get(reverse("admin:articles_article_change", args=[live.pk])))
    assert "View on site" not in draft_page and "Preview" in draft_page
    assert "View on site" in live_page
