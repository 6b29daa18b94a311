"""Public pages patients read: article list, article page, evidence pages, feed, sitemap."""

import json
import re
from datetime import date

import pytest

from articles import workflow
from articles.models import Article, Status, StudyType, Topic
from tests.html_tree import citation_links, text, texts, tree

pytestmark = pytest.mark.django_db


def json_ld_of(html):
    (block,) = tree(html).xpath("//script[@type='application/ld+json']")
    return json.loads(block.text)


def test_article_page_shows_numbered_citations_and_references(client, make_study, make_article):
    first = make_study(
        "cherkin2009",
        authors="Cherkin DC, Sherman KJ, Avins AL, et al.",
        title="A randomized trial comparing acupuncture, simulated acupuncture, and usual care",
        journal="Archives of Internal Medicine",
        year=2009,
        volume="169",
        issue="9",
        pages="858-866",
        doi="10.1001/archinternmed.2009.65",
        pmid="19433697",
    )
    second = make_study("nice2016", study_type=StudyType.GUIDELINE, title="Low back pain")
    body = (
        "## What trials found\n\n"
        "Real and simulated acupuncture both beat usual care [@cherkin2009]. "
        "Guidance in England does not recommend it [@nice2016]. "
        "The simulated treatment did as well as the real one [@cherkin2009, p. 861]."
    )
    article = make_article(body=body)
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    doc = tree(response)
    assert citation_links(doc) == ["ref-1", "ref-2", "ref-1"]
    (reference_list,) = doc.xpath("//ol[@class='references']")
    assert [item.get("id") for item in reference_list.xpath("./li")] == ["ref-1", "ref-2"]
    references = text(reference_list)
    links = reference_list.xpath(".//a/@href")
    assert "Cherkin DC, Sherman KJ, Avins AL, et al. A randomized trial comparing" in references
    assert "Archives of Internal Medicine. 2009;169(9):858-866." in references
    assert "https://doi.org/10.1001/archinternmed.2009.65" in links
    assert "https://pubmed.ncbi.nlm.nih.gov/19433697/" in links
    assert "Randomised controlled trial" in references
    assert "Clinical practice guideline" in references
    assert "p. 861" in references
    assert first.finding in references and second.get_absolute_url() in links


def test_article_page_reviewer_line_json_ld_and_social_tags(client, make_reviewer, make_article):
    reviewer = make_reviewer("drlee", display_name="Dr Morgan Lee")
    article = make_article(reviewer=reviewer, approval={"next_review_due_on": date(2027, 3, 2)})
    Article.objects.filter(pk=article.pk).update(last_reviewed_on=date(2026, 3, 2))
    html = client.get(article.get_absolute_url()).content.decode()
    assert "Medically reviewed by" in html and "2 March 2026" in html
    profile_url = reviewer.reviewer_profile.get_absolute_url()
    assert texts(tree(html), f"//a[@href='{profile_url}']") == ["Dr Morgan Lee"]
    assert "Next review due" in html and "March 2027" in html
    data = json_ld_of(html)
    assert data["@type"] == "MedicalWebPage"
    assert data["name"] == "Acupuncture and back pain"
    assert data["description"] == "What studies found."
    assert data["lastReviewed"] == "2026-03-02"
    assert data["reviewedBy"] == {"@type": "Person", "name": "Dr Morgan Lee"}
    assert len(data["citation"]) == 3
    head = tree(html).head
    canonical = f"http://testserver{article.get_absolute_url()}"
    assert head.xpath("./link[@rel='canonical']/@href") == [canonical]
    assert head.xpath("./meta[@property='og:title']/@content") == ["Acupuncture and back pain"]


def test_json_ld_cannot_break_out_of_its_script(client, make_article):
    article = make_article(title="</script><script>alert(1)</script>")
    html = client.get(article.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    assert json_ld_of(html)["name"] == "</script><script>alert(1)</script>"


def test_evidence_summary_counts_study_kinds(client, make_study, make_article):
    make_study("g1", study_type=StudyType.GUIDELINE)
    make_study("r1", study_type=StudyType.SYSTEMATIC_REVIEW)
    make_study("t1", study_type=StudyType.RCT)
    make_study("t2", study_type=StudyType.RCT)
    make_study("c1", study_type=StudyType.CASE_SERIES)
    body = "One [@g1]. Two [@r1; @t1]. Three [@t2]. Four [@c1]. Five [@t1]."
    html = client.get(make_article(body=body).get_absolute_url()).content.decode()
    assert (
        "This article makes 5 health claims, resting on 1 clinical guideline, "
        "1 systematic review, 2 randomised trials and 1 weaker source"
    ) in html


@pytest.mark.parametrize("citations", [3, 60])
def test_article_page_query_count_does_not_grow(
    client, make_article, django_assert_max_num_queries, citations
):
    article = make_article(citations=citations)
    make_article(topic=article.topic)  # a related article
    # 6 the first time: the article, then in full (read only then), references, related
    # articles, the clinic, the patients' questions. The rendered parts are then kept per
    # revision and content generation, and the clinic's details per generation.
    with django_assert_max_num_queries(6):
        response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert len(tree(response).xpath("//ol[@class='references']/li")) == citations
    # 1 afterwards: the article with its live revision's title and summary.
    with django_assert_max_num_queries(1):
        again = client.get(article.get_absolute_url())
    assert again.content == response.content


def test_draft_article_is_404(client, make_article):
    draft = make_article(status="draft")
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get("/articles/no-such-article/").status_code == 404


def test_unpublished_article_is_404(client, make_article, make_reviewer):
    article = make_article()
    workflow.unpublish(article, by=make_reviewer())
    assert client.get(article.get_absolute_url()).status_code == 404


def test_edit_of_published_article_does_not_change_public_page(client, make_article):
    article = make_article(title="Original title", body="Old text about pain.")
    workflow.save_draft(
        article, title="New title", summary="x", body="New text.", by=article.author
    )
    html = client.get(article.get_absolute_url()).content.decode()
    assert "Original title" in html and "Old text about pain." in html
    assert "New title" not in html


def test_article_list_newest_first_topic_filter_and_pagination(client, make_article):
    other = Topic.objects.create(name="Safety", slug="safety")
    for number in range(12):
        make_article(slug=f"evidence-{number}", title=f"Evidence piece {number}")
    make_article(slug="safe", title="Is it safe", topic=other)
    make_article(slug="hidden", title="Still a draft", status="draft")
    page_one = client.get("/articles/").content.decode()
    assert "Is it safe" in page_one and "Still a draft" not in page_one
    assert page_one.index("Is it safe") < page_one.index("Evidence piece 11")
    assert 'rel="next"' in page_one
    page_two = client.get("/articles/?page=2").content.decode()
    assert "Evidence piece 0" in page_two
    filtered = client.get("/articles/?topic=safety").content.decode()
    assert "Is it safe" in filtered and "Evidence piece" not in filtered
    assert client.get("/articles/?topic=nope").status_code == 404
    assert client.get("/articles/?page=99").status_code == 404


def test_home_shows_clinic_latest_articles_and_intake_link(client, make_article):
    make_article(title="Fresh article")
    doc = tree(client.get("/"))
    assert "Fresh article" in text(doc.body)
    assert doc.xpath("//a[@href='/intake/']")
    assert doc.xpath("//main[@id='main']") and doc.get("lang") == "en"


def test_evidence_pages_list_studies_and_published_claims(client, make_study, make_article):
    study = make_study("vickers2018", study_type=StudyType.SYSTEMATIC_REVIEW)
    make_article(body="Benefits lasted a year for most of the effect [@vickers2018].")
    make_article(body="A draft claim that patients must not see [@vickers2018].", status="draft")
    listing = client.get("/evidence/").content.decode()
    assert study.title in listing and "Systematic review or meta-analysis" in listing
    assert "Supports 1 claim" in listing
    detail = client.get("/evidence/vickers2018/").content.decode()
    assert study.finding in detail
    assert "Benefits lasted a year for most of the effect" in detail
    assert "A draft claim" not in detail
    assert client.get("/evidence/?type=rct").status_code == 200
    assert client.get("/evidence/unknown-key/").status_code == 404


def test_retracted_study_is_marked(client, make_study):
    make_study("gone2020", is_retracted=True, retraction_note="Data could not be verified.")
    html = client.get("/evidence/gone2020/").content.decode()
    assert "This study has been retracted." in html and "Data could not be verified." in html


def test_feed_sitemap_robots_and_healthz(client, make_article):
    article = make_article(title="Feed item")
    make_article(slug="secret-draft", status="draft")
    feed = client.get("/feed/")
    assert feed.status_code == 200 and "Feed item" in feed.content.decode()
    assert feed["Content-Type"].startswith("application/atom+xml")
    sitemap = client.get("/sitemap.xml").content.decode()
    assert article.get_absolute_url() in sitemap and "secret-draft" not in sitemap
    robots = client.get("/robots.txt").content.decode()
    assert "Disallow: /admin/" in robots and "sitemap.xml" in robots
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}


def test_friendly_404_page(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_article_status_after_publish(make_article):
    article = make_article()
    assert article.status == Status.PUBLISHED
    assert Article.objects.published().filter(pk=article.pk).exists()


def test_reference_shows_reviewer_certainty_in_plain_words(client, make_article):
    article = make_article(citations=1)
    html = client.get(article.get_absolute_url()).content.decode()
    references = re.search(r'<ol class="references">(.*?)</ol>', html, re.S).group(1)
    assert "Our reviewer's rating of the evidence: Moderate certainty: small benefit" in references


def test_undated_source_is_cited_as_no_date(make_study):
    study = make_study(authors="Health Agency", title="Fact sheet", journal="", year=None)
    assert study.ama_citation() == "Health Agency. Fact sheet. n.d."


def test_evidence_library_lists_the_strongest_kinds_of_study_first(client, make_study):
    make_study("survey", study_type=StudyType.CASE_SERIES, title="A survey")
    make_study("guide", study_type=StudyType.GUIDELINE, title="A guideline")
    make_study("trial", study_type=StudyType.RCT, title="A trial")
    html = client.get("/evidence/").content.decode()
    assert html.index("A guideline") < html.index("A trial") < html.index("A survey")


@pytest.mark.parametrize(
    ("path", "budget"),
    [
        ("/", 3),
        ("/articles/", 5),
        ("/evidence/", 3),
        ("/evidence/shared/", 4),
        ("/feed/", 3),
        ("/sitemap.xml", 4),
    ],
)
def test_public_page_queries_do_not_grow_with_content(
    client, make_study, make_article, django_assert_max_num_queries, path, budget
):
    make_study("shared")
    for number in range(8):
        make_article(body=f"Claim {number} about pain [@shared].", citations=0)
    with django_assert_max_num_queries(budget):
        response = client.get(path)
    assert response.status_code == 200


def test_reviewer_page_lists_their_published_articles(
    client, make_reviewer, make_article, django_assert_max_num_queries
):
    reviewer = make_reviewer(display_name="Dr Pat Kim", declared_interests="None declared.")
    for number in range(4):
        make_article(title=f"Reviewed piece {number}", reviewer=reviewer)
    with django_assert_max_num_queries(4):
        html = client.get(reviewer.reviewer_profile.get_absolute_url()).content.decode()
    assert "Dr Pat Kim" in html and "General Medical Council" in html
    assert all(f"Reviewed piece {number}" in html for number in range(4))
