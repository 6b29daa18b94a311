"""Look-ups by DOI and PMID, and Crossmark updates, from recorded responses (no network)."""

from io import StringIO
from pathlib import Path

import httpx
import pytest
from django.core.management import CommandError, call_command

from articles import study_lookup
from articles.models import NoticeNature, NoticeSource, ReviewFlag, StudyType
from articles.study_lookup import LookupFailed, lookup

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
RESPONSES = {
    "/works/10.5555/jit.2011.0101": ("crossref_work.json", "application/json"),
    "/works/10.5555/jit.2012.corr": ("crossref_notice.json", "application/json"),
    "/entrez/eutils/efetch.fcgi": ("pubmed_efetch.txt", "text/plain"),
}


@pytest.fixture
def recorded(monkeypatch, settings):
    """Serve recorded responses; remember each request to check what was sent."""
    settings.CROSSREF_MAILTO = "evidence@clinic.example"
    requests = []

    def handler(request):
        requests.append(request)
        path = request.url.path
        if path not in RESPONSES:
            return httpx.Response(404, text="Resource not found.")
        name, kind = RESPONSES[path]
        return httpx.Response(
            200, content=(DATA / name).read_bytes(), headers={"Content-Type": kind}
        )

    def client():
        return httpx.Client(
            transport=httpx.MockTransport(handler),
            headers={"User-Agent": study_lookup.user_agent()},
        )

    monkeypatch.setattr(study_lookup, "http_client", client)
    return requests


@pytest.fixture
def offline(monkeypatch):
    def handler(request):
        raise httpx.ConnectError("Name or service not known", request=request)

    monkeypatch.setattr(
        study_lookup, "http_client", lambda: httpx.Client(transport=httpx.MockTransport(handler))
    )


def test_doi_lookup_fills_in_the_reference(recorded):
    record = lookup("https://doi.org/10.5555/JIT.2011.0101".lower())
    assert record.authors_text() == "Hartwell NJ, Okafor S"
    assert record.title == "Needling versus waiting list for chronic neck pain: a randomised trial"
    assert (record.journal, record.year, record.volume, record.issue, record.pages) == (
        "J Invent Trials",
        2011,
        "12",
        "3",
        "101-110",
    )
    [request] = recorded
    assert "mailto:evidence@clinic.example" in request.headers["User-Agent"]
    assert request.url.params["mailto"] == "evidence@clinic.example"


def test_pmid_lookup_reads_pubmed_and_suggests_a_type(recorded):
    record = lookup("31000002")
    assert record.authors_text() == "Müller J, García-Pérez JL"
    assert record.doi == "10.5555/rmm.2019.77"
    assert record.suggested_study_type() == StudyType.SYSTEMATIC_REVIEW
    [request] = recorded
    assert request.url.params["email"] == "evidence@clinic.example"
    assert request.url.params["rettype"] == "medline"


def test_unknown_identifiers_are_explained(recorded):
    with pytest.raises(LookupFailed, match=r"Crossref has no record of the DOI 10\.5555/none"):
        lookup("10.5555/none")
    with pytest.raises(LookupFailed, match="not a DOI"):
        lookup("not-an-identifier")
    with pytest.raises(LookupFailed, match="PubMed has no record of the PMID 1"):
        lookup("1")


def test_offline_fails_with_a_clear_message(offline):
    with pytest.raises(LookupFailed, match="may be offline"):
        lookup("10.5555/jit.2011.0101")


def test_default_client_has_a_short_timeout_and_a_contact(settings):
    settings.CROSSREF_MAILTO = "evidence@clinic.example"
    with study_lookup.http_client() as client:
        assert client.timeout.connect <= 5 and client.timeout.read <= 5
        assert "mailto:evidence@clinic.example" in client.headers["User-Agent"]


def test_check_study_updates_records_crossmark_notices(recorded, make_study, make_article):
    study = make_study("hartwell2011", doi="10.5555/jit.2011.0101")
    make_study("notice2012", doi="10.5555/jit.2012.corr")
    article = make_article(body="Needling helped necks [@hartwell2011].")
    out = StringIO()
    call_command("check_study_updates", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "2 study(ies) checked, 2 notice(s) recorded, 0 failed." in text
    assert "notice2012: this DOI is itself a notice about another paper" in text
    study.refresh_from_db()
    assert study.is_retracted
    natures = set(study.notices.values_list("nature", "source"))
    assert natures == {
        (NoticeNature.RETRACTION, NoticeSource.CROSSREF),
        (NoticeNature.CORRECTION, NoticeSource.CROSSREF),
    }
    assert set(ReviewFlag.objects.filter(article=article).values_list("reason", flat=True)) == {
        "study_retracted",
        "study_corrected",
    }
    again = StringIO()
    call_command("check_study_updates", stdout=again, stderr=StringIO())
    assert "0 notice(s) recorded" in again.getvalue()


def test_check_study_updates_offline_stops_clearly(offline, make_study):
    make_study(doi="10.5555/jit.2011.0101")
    with pytest.raises(CommandError, match="Crossref cannot be reached"):
        call_command("check_study_updates", stdout=StringIO(), stderr=StringIO())
