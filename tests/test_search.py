"""Site search (`/search/?q=`): ranking, stemming, only live content, bad queries, the page."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles import workflow
from articles.body import parse
from articles.models import Study, StudyType
from clinic.input_guard import find_unsafe_characters
from search.models import SearchEntry
from search.sources import text_of_html
from search.text import MAX_QUERY_LENGTH, Query, clean_text
from tests.conftest import refresh, review_everything

pytestmark = pytest.mark.django_db


def search(client, q, **params):
    response = client.get("/search/", {"q": q, **params})
    assert response.status_code == 200
    return response.content.decode()


def result_links(html):
    """The result links, in order."""
    results = re.search(r'<ol class="card-list search-results"[^>]*>(.*?)</ol>', html, re.S)
    return re.findall(r'<h3><a href="([^"]+)">', results.group(1)) if results else []


def status_of(html):
    return re.search(r'<div id="search-status" role="status">(.*?)</div>', html, re.S).group(1)


@pytest.fixture
def make_written(make_article, make_study):
    """A published article whose body is the given prose, with one cited claim."""

    def make(title, body="Some ordinary words about care.", summary="What studies found.", **kw):
        study = make_study()
        return make_article(
            title=title, summary=summary, body=f"{body}\n\nIt eased pain [@{study.key}].", **kw
        )

    return make


def test_title_match_outranks_body_match(client, make_written):
    in_body = make_written("Exercise for back pain", body="Some people also try needles.")
    in_title = make_written("Needles and back pain", body="What the treatment involves.")
    in_summary = make_written("Heat packs", summary="Compared with needles.")
    links = result_links(search(client, "needles"))
    assert links == [
        in_title.get_absolute_url(),
        in_summary.get_absolute_url(),
        in_body.get_absolute_url(),
    ]


def test_stemming_finds_other_forms_of_a_word(client, make_written):
    article = make_written("Treatment options", body="A thin needle is placed in the skin.")
    assert result_links(search(client, "needles")) == [article.get_absolute_url()]
    assert result_links(search(client, "NEEDLING")) == [article.get_absolute_url()]


def test_every_word_must_match(client, make_written):
    both = make_written("Needles in the clinic", body="Sessions last half an hour.")
    make_written("Needles at home", body="Never try this yourself.")
    assert result_links(search(client, "needles sessions")) == [both.get_absolute_url()]


def test_quoted_phrase_keeps_words_together(client, make_written):
    phrase = make_written("Sham needles", body="Real acupuncture was compared with sham.")
    make_written("Apart", body="Acupuncture was real. Nobody was a sham.")
    links = result_links(search(client, '"real acupuncture"'))
    assert links == [phrase.get_absolute_url()]


def test_drafts_and_articles_in_review_are_never_found(client, make_written):
    make_written("Zebrafish draft", status="draft")
    make_written("Zebrafish in review", status="in_review")
    make_written("Zebrafish approved", status="approved")
    html = search(client, "zebrafish")
    assert result_links(html) == []
    assert "Nothing matches “zebrafish”" in html


def test_publishing_adds_and_unpublishing_removes(client, make_written, reviewer):
    article = make_written("Zebrafish article", status="approved", reviewer=reviewer)
    assert result_links(search(client, "zebrafish")) == []
    workflow.publish(article, by=reviewer)
    assert result_links(search(client, "zebrafish")) == [article.get_absolute_url()]
    workflow.unpublish(refresh(article), by=reviewer)
    assert result_links(search(client, "zebrafish")) == []
    assert not SearchEntry.objects.filter(kind="article").exists()


def test_new_draft_is_not_searchable_until_it_is_published(
    client, make_written, make_reviewer, reviewer
):
    article = make_written("Old title", body="Walking helps.", reviewer=reviewer)
    author = article.author
    live_body = refresh(article).live_revision.body
    workflow.save_draft(
        refresh(article),
        title="Swimming title",
        summary="New summary.",
        body=live_body.replace("Walking", "Swimming"),
        by=author,
    )
    assert result_links(search(client, "swimming")) == []
    assert result_links(search(client, "walking")) == [article.get_absolute_url()]

    workflow.submit_for_review(refresh(article), by=author)
    review_everything(refresh(article), reviewer)
    workflow.approve(refresh(article), by=reviewer)
    assert result_links(search(client, "swimming")) == []
    workflow.publish(refresh(article), by=reviewer)
    assert result_links(search(client, "swimming")) == [article.get_absolute_url()]
    assert result_links(search(client, "walking")) == []


def test_studies_are_found_by_title_and_finding_and_link_to_their_page(client, make_study):
    by_title = make_study("walker2020", title="Walking programmes for spinal stenosis")
    by_finding = make_study("ono2021", finding="Patients on the walking plan slept better.")
    make_study("other2022", title="Yoga", finding="Stretching eased stiffness.")
    links = result_links(search(client, "walk"))
    assert links == ["/evidence/walker2020/", "/evidence/ono2021/"]
    assert by_title.get_absolute_url() == "/evidence/walker2020/"
    assert by_finding.get_absolute_url() in links


def test_study_edits_and_deletions_reach_the_index(client, make_study):
    study = make_study("edit2020", title="Massage for neck pain")
    study.title = "Massage for shoulder pain"
    study.save()
    assert result_links(search(client, "neck")) == []
    assert result_links(search(client, "shoulder")) == ["/evidence/edit2020/"]
    Study.objects.filter(pk=study.pk).delete()
    assert result_links(search(client, "shoulder")) == []


def test_a_study_patients_cannot_open_yet_is_not_found_until_a_reviewer_describes_it(
    client, make_study
):
    study = make_study("import2024", title="Zebrafish needling outcomes", study_type="", finding="")
    assert client.get(study.get_absolute_url()).status_code == 404
    assert result_links(search(client, "zebrafish")) == []
    assert study.get_absolute_url() not in client.get("/sitemap.xml").content.decode()
    study.study_type, study.finding = StudyType.RCT, "Fish swam a little faster."
    study.save()
    assert client.get(study.get_absolute_url()).status_code == 200
    assert result_links(search(client, "zebrafish")) == ["/evidence/import2024/"]
    assert study.get_absolute_url() in client.get("/sitemap.xml").content.decode()


def test_snippet_highlights_matches_and_escapes_text(client, make_written):
    make_written(
        "Needles & <b>pins</b>",
        body="Before the session, the <script>alert(1)</script> practitioner checks needles.",
    )
    html = search(client, "needles")
    assert "<mark>Needles</mark> &amp; &lt;b&gt;pins&lt;/b&gt;" in html
    assert "<script>alert" not in html
    snippet = re.search(r'<p class="snippet">(.*?)</p>', html, re.S).group(1)
    assert "<mark>needles</mark>" in snippet
    assert "[@" not in snippet  # citation markers and reference numbers are not indexed


def test_body_snippet_leaves_out_reference_numbers(client, make_article, make_study):
    study = make_study("refnum2020")
    make_article(title="Plain", body=f"Gentle stretching eased pain [@{study.key}].")
    snippet = re.search(r'<p class="snippet">(.*?)</p>', search(client, "stretching"), re.S)
    assert re.sub(r"</?mark>", "", snippet.group(1)).strip().startswith("Gentle stretching eased")
    assert "1" not in snippet.group(1)


def test_indexed_body_is_the_text_patients_read():
    html = parse("## Heading\n\nRe*lief* came [@a; @b].\n\n- one\n- two &amp; three\n").html
    assert text_of_html(html) == "Heading Relief came. one two & three"


def test_summary_is_the_snippet_when_the_body_does_not_match(client, make_written):
    make_written("Heat", summary="Warmth relaxes tight muscles.", body="Nothing relevant here.")
    html = search(client, "heat")
    assert '<p class="snippet">Warmth relaxes tight muscles.</p>' in html


def test_result_count_is_announced_and_in_the_title(client, make_written):
    make_written("Needles one")
    make_written("Needles two")
    html = search(client, "needles")
    assert "<strong>2 results</strong> for “needles”" in status_of(html)
    assert re.search(r"<title>2 results for “needles” · Search", html)


def test_results_are_paginated(client, make_study):
    for number in range(23):
        make_study(f"page{number:02d}", title=f"Pagination study {number}")
    first = search(client, "pagination")
    assert len(result_links(first)) == 10
    assert "showing 1 to 10" in status_of(first)
    assert 'href="?q=pagination&amp;page=2"' in first
    last = search(client, "pagination", page="3")
    assert len(result_links(last)) == 3
    assert '<ol class="card-list search-results" start="21">' in last
    assert set(result_links(first)).isdisjoint(result_links(last))
    assert result_links(search(client, "pagination", page="nonsense")) == result_links(first)
    assert result_links(search(client, "pagination", page="999")) == result_links(last)


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "Type a word or two"),
        ("   ", "Type a word or two"),
        ("&|!:*", "no letters or numbers"),
        ('"', "no letters or numbers"),
        ("___", "no letters or numbers"),
    ],
)
def test_queries_without_words_get_a_clear_page(client, make_written, q, message):
    make_written("Needles")
    html = search(client, q)
    assert message in status_of(html)
    assert result_links(html) == []


@pytest.mark.parametrize(
    "q",
    [
        "needles & | ! : * ( ) <-> ' \\",
        'needles "unclosed',
        "needles:*",
        "title:needles",
        "needles NOT OR AND NEAR(",
        "-needles",
        "needles \uff06 ñandú 针灸 🙂",
    ],
)
def test_odd_queries_never_fail(client, make_written, q):
    article = make_written("Needles explained")
    html = search(client, q)
    live = set(SearchEntry.objects.values_list("url", flat=True))
    assert article.get_absolute_url() in live
    assert "Nothing matches" in html or set(result_links(html)) <= live


def test_query_is_shown_back_escaped(client):
    html = search(client, '<script>alert("x")</script>')
    assert "<script>alert" not in html
    assert 'value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"' in html


def test_very_long_query_is_shortened_with_a_message(client, make_written):
    article = make_written("Needles explained")
    html = search(client, "needles " + "x" * 5000)
    assert f"up to {MAX_QUERY_LENGTH} characters" in status_of(html)
    value = re.search(r'id="search-q" name="q" value="([^"]*)"', html).group(1)
    assert len(value) == MAX_QUERY_LENGTH
    assert result_links(search(client, "needles " + "needles " * 100)) == [
        article.get_absolute_url()
    ]


@pytest.mark.parametrize("raw", ["%FF%FE%00needles", "needles%00", "nee%00dles"])
def test_unreadable_query_gets_a_clear_400_page(client, make_written, raw):
    # The site-wide input guard (clinic.input_guard) answers before the search runs.
    response = client.get(f"/search/?q={raw}")
    assert response.status_code == 400
    assert "We could not read that address" in response.content.decode()


# Words that exist in the index, search-engine syntax, and anything else.
_QUERY_PIECES = st.sampled_from(
    [
        "needles",
        "study",
        " ",
        '"',
        "&",
        "|",
        "!",
        ":",
        "*",
        "(",
        ")",
        "-",
        "^",
        "<->",
        "NOT",
        "OR",
        "AND",
        "NEAR",
        "\x00",
        "'",
        "\\",
        "ñ",
        "针",
        "🙂",
        "_",
    ]
) | st.text(max_size=5)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(q=st.lists(_QUERY_PIECES, max_size=40).map("".join))
def test_any_query_gives_a_page(client, make_study, q):
    if not Study.objects.exists():
        make_study("needles2020", title="Needles study", finding="Needles helped (a little).")
    response = client.get("/search/", {"q": q})
    if find_unsafe_characters(q):
        assert response.status_code == 400  # the input guard's clear page
    else:
        assert response.status_code == 200
        assert '<div id="search-status" role="status">' in response.content.decode()


@given(raw=st.text(max_size=400))
def test_query_parse_is_clean_and_bounded(raw):
    query = Query.parse(raw)
    assert len(query.text) <= MAX_QUERY_LENGTH
    assert "\x00" not in query.text
    assert query.was_shortened == (len(" ".join(clean_text(raw).split())) > MAX_QUERY_LENGTH)
    expression = query.fts5_expression()
    assert bool(expression) == query.has_words()


def test_search_page_is_accessible_and_works_without_javascript(client, make_written):
    make_written("Needles")
    html = search(client, "needles")
    assert html.count("<h1>") == 1
    assert '<form class="search-form" role="search"' in html
    assert 'method="get"' in html
    assert '<label for="search-q">' in html and 'id="search-q"' in html
    assert "<main" in html
    assert "<script" not in html.split("</main>")[0].split("<main")[1]
    assert '<meta name="robots" content="noindex, follow">' in html


@pytest.mark.parametrize("url", ["/", "/articles/", "/evidence/", "/intake/", "/search/"])
def test_header_has_a_labelled_search_box(client, url):
    html = client.get(url).content.decode()
    header = re.search(r'<header class="site-header">(.*?)</header>', html, re.S).group(1)
    assert 'role="search"' in header and 'action="/search/"' in header
    assert '<label class="visually-hidden" for="site-search-q">' in header
    assert 'id="site-search-q" name="q"' in header


def test_search_page_queries_do_not_grow(client, make_study, django_assert_max_num_queries):
    for number in range(30):
        make_study(f"queries{number}", title=f"Query count study {number}")
    with django_assert_max_num_queries(3):
        assert len(result_links(search(client, "query count"))) == 10
    with django_assert_max_num_queries(1):
        search(client, "")


def test_rebuild_command_recreates_the_index(client, make_written, make_study):
    article = make_written("Needles rebuilt")
    make_study("rebuilt2020", title="Rebuilt study on needles")
    before = set(SearchEntry.objects.values_list("kind", "object_id", "title"))
    SearchEntry.objects.all().delete()
    assert result_links(search(client, "needles")) == []
    call_command("rebuild_search_index", verbosity=0)
    assert set(SearchEntry.objects.values_list("kind", "object_id", "title")) == before
    assert set(result_links(search(client, "needles"))) == {
        article.get_absolute_url(),
        "/evidence/rebuilt2020/",
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored vector is PostgreSQL's")
def test_postgresql_keeps_a_weighted_vector(make_written):
    make_written("Needles", summary="About treatment.", body="Sessions are short.")
    vector = SearchEntry.objects.get(kind="article").search_vector
    assert "'needl':1A" in vector and "'treatment':3B" in vector and "'session':4C" in vector


def test_a_query_with_a_decomposed_accent_finds_the_composed_word(client, make_study):
    make_study("muller2019", title="Réduction de la douleur cervicale")
    assert result_links(search(client, "re\u0301duction")) == ["/evidence/muller2019/"]
