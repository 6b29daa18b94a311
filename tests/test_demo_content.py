"""The demo content data files: studies, articles and review verdicts (no database)."""

import re
from collections import Counter

import pytest

from articles.demo_content import load_articles, load_studies, load_verdicts, parse_article

STUDY_FIELDS = {
    "key",
    "authors",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "url",
    "study_type",
    "sample_size",
    "participants",
    "sham_controlled",
    "stated_grade",
    "finding",
}
STRING_FIELDS = STUDY_FIELDS - {"year", "participants", "sham_controlled"}
STUDY_TYPES = {
    "guideline",
    "systematic_review",
    "rct",
    "cohort",
    "case_series",
    "agency",
    "expert_opinion",
}
STATUSES = {"published", "draft", "in_review"}
TOPICS = {"Research explained", "Your visit", "Safety", "Treatment options"}
VERDICTS = {"supports", "overstated", "does_not_support"}

FIRST_KEY = re.compile(r"\[@([A-Za-z0-9_-]+)")
MORE_KEYS = re.compile(r";\s*@([A-Za-z0-9_-]+)")
MARKER = re.compile(r"\[@[^\]]+\]")
LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


def cited_keys(body):
    return FIRST_KEY.findall(body) + MORE_KEYS.findall(body)


@pytest.fixture(scope="module")
def studies():
    return load_studies()


@pytest.fixture(scope="module")
def study_keys(studies):
    return {s["key"] for s in studies}


@pytest.fixture(scope="module")
def articles():
    return load_articles()


def by_status(articles, status):
    return [a for a in articles if a["status"] == status]


def test_studies_have_required_fields_and_valid_types(studies):
    assert len(studies) == 34
    for study in studies:
        assert set(study) == STUDY_FIELDS, study.get("key")
        for field in STRING_FIELDS:
            assert isinstance(study[field], str), (study["key"], field)
        for field in ("key", "authors", "title", "journal", "finding"):
            assert study[field].strip(), (study["key"], field)
        # Only links to publishers, registries and official pages, never file-sharing copies.
        assert not re.search(r"scribd|kipdf|docslib", study["url"]), study["key"]
        assert study["study_type"] in STUDY_TYPES, study["key"]
        assert re.fullmatch(r"[A-Za-z0-9_-]+", study["key"])
        # Undated agency web pages keep an unknown year as null rather than a guess.
        if study["year"] is None:
            assert study["study_type"] == "agency", study["key"]
        else:
            assert isinstance(study["year"], int) and 1900 < study["year"] < 2100
        assert study["doi"] == "" or study["doi"].startswith("10."), study["key"]
        assert study["pmid"] == "" or study["pmid"].isdigit(), study["key"]
        assert len(study["finding"]) < 700, study["key"]


def test_study_keys_dois_and_pmids_are_unique(studies):
    keys = Counter(s["key"] for s in studies)
    assert [k for k, n in keys.items() if n > 1] == []
    dois = Counter(s["doi"].lower() for s in studies if s["doi"])
    assert [d for d, n in dois.items() if n > 1] == []
    pmids = Counter(s["pmid"] for s in studies if s["pmid"])
    assert [p for p, n in pmids.items() if n > 1] == []


def test_articles_have_valid_front_matter(articles):
    assert len(articles) >= 6
    slugs = Counter(a["slug"] for a in articles)
    assert [s for s, n in slugs.items() if n > 1] == []
    for article in articles:
        for field in ("slug", "title", "summary", "topic", "status", "body"):
            assert article.get(field, "").strip(), (article.get("slug"), field)
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", article["slug"])
        assert article["status"] in STATUSES, article["slug"]
        assert article["topic"] in TOPICS, article["slug"]
        if article["status"] == "published":
            assert isinstance(article["published_days_ago"], int), article["slug"]
            assert article["published_days_ago"] >= 0


def test_article_statuses(articles):
    assert len(by_status(articles, "published")) >= 4
    assert len(by_status(articles, "draft")) >= 1
    assert len(by_status(articles, "in_review")) >= 1


def test_every_cited_key_exists(articles, study_keys):
    for article in articles:
        unknown = set(cited_keys(article["body"])) - study_keys
        assert not unknown, (article["slug"], unknown)


def test_published_articles_carry_enough_claims(articles):
    counts = {a["slug"]: len(MARKER.findall(a["body"])) for a in by_status(articles, "published")}
    assert sum(counts.values()) >= 25, counts
    assert all(n >= 5 for n in counts.values()), counts
    for article in by_status(articles, "in_review"):
        assert len(MARKER.findall(article["body"])) >= 5, article["slug"]


def test_article_bodies_use_headings_lists_tables_and_only_study_links(articles, studies):
    urls = {s["url"] for s in studies}
    for article in articles:
        body = article["body"]
        assert re.search(r"^## ", body, re.M), article["slug"]
        assert re.search(r"^- ", body, re.M), article["slug"]
        assert "![" not in body, article["slug"]
        assert set(LINK.findall(body)) <= urls, article["slug"]
    assert any(re.search(r"^\|[- |]+\|$", a["body"], re.M) for a in articles)


def test_verdicts_match_claims_in_the_in_review_article(articles, study_keys):
    (article,) = by_status(articles, "in_review")
    body = article["body"]
    verdicts = load_verdicts()
    assert len(verdicts) >= 5
    for v in verdicts:
        assert set(v) == {"claim_contains", "key", "verdict", "note"}, v
        assert v["verdict"] in VERDICTS, v
        assert v["key"] in study_keys, v
        assert v["note"].strip(), v
        assert body.count(v["claim_contains"]) == 1, v["claim_contains"]
        # The claim ends at the next marker in the same sentence, and that marker cites the key.
        rest = body[body.index(v["claim_contains"]) + len(v["claim_contains"]) :]
        marker = MARKER.search(rest)
        assert marker, v["claim_contains"]
        assert not re.search(r"[.!?]\s", rest[: marker.start()]), v["claim_contains"]
        assert v["key"] in cited_keys(marker.group()), v["claim_contains"]
    tally = Counter(v["verdict"] for v in verdicts)
    assert 1 <= tally["overstated"] <= 2
    assert tally["supports"] > len(verdicts) / 2


@pytest.mark.parametrize(
    "text",
    ["no front matter\n", "---\nslug: x\n", "---\nslug x\n---\nbody\n"],
)
def test_parse_article_rejects_bad_front_matter(text):
    with pytest.raises(ValueError):
        parse_article(text)


def test_parse_article_reads_fields_and_body():
    article = parse_article(
        "---\nslug: a\nsummary: Colons: fine.\npublished_days_ago: 3\n---\nHello [@x].\n"
    )
    assert article == {
        "slug": "a",
        "summary": "Colons: fine.",
        "published_days_ago": 3,
        "body": "Hello [@x].\n",
    }
