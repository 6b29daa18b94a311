"""The study library's admin: import with preview and confirm, look-up, export, hints."""

import json
import re
from pathlib import Path

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from articles import study_lookup
from articles.models import Study, StudyType

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
IMPORT = reverse("admin:articles_study_import")


@pytest.fixture
def author_client(client, make_user):
    client.force_login(make_user("writer", groups=["Authors"]))
    return client


def upload(client, name):
    data = (DATA / name).read_bytes()
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, data)})


def test_upload_previews_without_saving_then_confirm_imports(author_client):
    preview = upload(author_client, "library.nbib")
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "3 would be created, 1 duplicate(s) skipped, 2 error(s)." in html
    assert "library.nbib, line 49: it has no PMID line" in html
    assert "Randomised controlled trial" in html  # the suggestion is shown
    assert not Study.objects.exists()
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)

    done = author_client.post(IMPORT, {"_confirm": "1", "token": token}, follow=True)
    assert "3 created, 1 duplicate(s) skipped, 2 error(s)." in done.content.decode()
    assert Study.objects.count() == 3
    # The session no longer holds the records: confirming again adds nothing.
    again = author_client.post(IMPORT, {"_confirm": "1", "token": token}, follow=True)
    assert "expired" in again.content.decode()
    assert Study.objects.count() == 3


def test_a_non_utf8_upload_is_previewed_with_a_warning_and_saves_nothing(author_client):
    latin = "@article{a, author={Caf\xe9, Ana}, title={Caf\xe9 trial}, year={2020}}"
    response = author_client.post(
        IMPORT, {"file": SimpleUploadedFile("x.bib", latin.encode("cp1252"))}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "x.bib is not UTF-8: it was read as Windows-1252." in page
    assert "Café trial" in page
    assert not Study.objects.exists()


def test_reviewers_without_add_permission_cannot_import(client, reviewer):
    client.force_login(reviewer)
    assert client.get(IMPORT).status_code == 403
    assert client.get(reverse("admin:articles_study_lookup")).status_code == 403


def test_lookup_fills_in_the_add_form(author_client, monkeypatch):
    def handler(request):
        return httpx.Response(200, content=(DATA / "pubmed_efetch.txt").read_bytes())

    monkeypatch.setattr(
        study_lookup, "http_client", lambda: httpx.Client(transport=httpx.MockTransport(handler))
    )
    response = author_client.post(
        reverse("admin:articles_study_lookup"), {"identifier": "31000002"}
    )
    assert response.status_code == 302
    form = author_client.get(response["Location"]).content.decode()
    assert 'value="muller2019"' in form and 'value="31000002"' in form
    assert 'value="systematic_review" selected' in form


def test_lookup_offline_says_so(author_client, monkeypatch):
    def handler(request):
        raise httpx.ConnectTimeout("timed out", request=request)

    monkeypatch.setattr(
        study_lookup, "http_client", lambda: httpx.Client(transport=httpx.MockTransport(handler))
    )
    response = author_client.post(
        reverse("admin:articles_study_lookup"), {"identifier": "10.5555/x.1"}
    )
    assert response.status_code == 400
    assert "did not answer within" in response.content.decode()


def test_library_and_article_references_export(author_client, make_article, make_study):
    make_study("uncited2020", title="Not cited anywhere")
    cited = make_study("cited2019", title="Cited by the article")
    article = make_article(body="Needles helped [@cited2019].")
    library = author_client.get(reverse("admin:articles_study_export", args=["csl-json"]))
    assert library["Content-Disposition"] == 'attachment; filename="library.json"'
    assert {item["id"] for item in json.loads(library.content)} == {"uncited2020", "cited2019"}
    references = author_client.get(
        reverse("admin:articles_article_references", args=[article.pk, "bibtex"])
    ).content.decode()
    assert f"@article{{{cited.key}," in references and "uncited2020" not in references


def test_confirm_suggested_type_is_for_reviewers(client, reviewer, make_study):
    study = make_study(study_type="", finding="", suggested_study_type=StudyType.RCT)
    client.force_login(reviewer)
    client.post(
        reverse("admin:articles_study_changelist"),
        {"action": "confirm_suggested_type", "_selected_action": [study.pk]},
    )
    study.refresh_from_db()
    assert study.study_type == StudyType.RCT


def test_review_screen_shows_freshness_hints(client, reviewer, make_study, make_article):
    guideline = make_study("oldguide2012", study_type=StudyType.GUIDELINE, year=2012)
    trial = make_study("trial2010", study_type=StudyType.RCT, year=2010)
    review = make_study("review2018", study_type=StudyType.SYSTEMATIC_REVIEW, year=2018)
    review.included_studies.add(trial)
    article = make_article(
        body="Guidance says so [@oldguide2012]. A trial found so [@trial2010].",
        status="in_review",
    )
    client.force_login(reviewer)
    html = client.get(reverse("admin:articles_article_review", args=[article.pk])).content.decode()
    hints = re.findall(r'<li class="freshness-([a-z_]+)">(.*?)</li>', html)
    assert ("old_guideline", "Guideline from 2012, more than 5 years old: check whether it "
            "has been updated or replaced.") in hints  # fmt: skip
    assert any(code == "newer_review" and "review2018 (2018)" in text for code, text in hints)
    assert guideline.pk and len(hints) == 2
