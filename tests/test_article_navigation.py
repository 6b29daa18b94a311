"""Finding one's way around an article page: citation anchors and back-links, grouped
citations in ascending order, a table of contents for long articles, and the topic that no
longer shares its name with the study library."""

import importlib
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from hypothesis import given, settings
from hypothesis import strategies as st

from articles.body import parse
from articles.models import Article, Topic
from articles.navigation import prepare

LINK = re.compile(r'<sup><a href="#ref-(\d+)">(\d+)</a></sup>')


# navigation.prepare (pure) -------------------------------------------------------------------


def test_each_citation_gets_an_anchor_numbered_per_reference():
    page = prepare(parse("One [@b]. Two [@a]. Three [@b]. Four [@c; @a].").html)
    assert page.cited_at == {
        1: ("cite-1-1", "cite-1-2"),
        2: ("cite-2-1", "cite-2-2"),
        3: ("cite-3-1",),
    }
    assert 'Three <span class="cite-anchor" id="cite-1-2"></span><sup><a href="#ref-1">1</a>' in (
        page.html
    )


def test_grouped_citations_read_in_ascending_order():
    page = prepare(parse("First [@a; @b; @c]. Later [@c; @a; @b]. Then [@b, p. 2; @a].").html)
    group = re.compile(r"(?:<span[^>]*></span><sup><a.*?</sup>(?:<sup>,</sup>)?)+")
    groups = [[int(n) for n, _ in LINK.findall(found)] for found in group.findall(page.html)]
    assert groups == [[1, 2, 3], [1, 2, 3], [1, 2]]


def test_the_page_keeps_the_citation_link_form_it_promises():
    body = "A [@a]. B [@b; @a]."
    html = prepare(parse(body).html).html
    assert html.count('<sup><a href="#ref-1">1</a></sup>') == 2
    assert '<sup><a href="#ref-2">2</a></sup>' in html


def test_headings_get_unique_ids_without_citation_numbers():
    page = prepare(parse("## Pain *now* [@a]\n\nText.\n\n## Pain now\n\n### Detail\n\n## ¿?").html)
    assert [(h.id, h.text, h.level) for h in page.headings] == [
        ("section-pain-now", "Pain now", 2),
        ("section-pain-now-2", "Pain now", 2),
        ("section-detail", "Detail", 3),
        ("section-x", "¿?", 2),
    ]
    assert [h.id for h in page.sections()] == [
        "section-pain-now",
        "section-pain-now-2",
        "section-x",
    ]
    assert '<h2 id="section-pain-now">Pain <em>now</em>' in page.html


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = []

    def handle_starttag(self, tag, attrs):
        self.ids += [value for name, value in attrs if name == "id"]


KEYS = st.sampled_from(["a", "b", "c", "d"])
SENTENCE = st.lists(KEYS, min_size=0, max_size=3, unique=True).map(
    lambda keys: "Claim" + (f" [@{'; @'.join(keys)}]" if keys else "") + "."
)
BLOCK = st.one_of(
    st.lists(SENTENCE, min_size=1, max_size=4).map(" ".join),
    st.sampled_from(["## Heading", "## Heading", "### Sub", "## Other [@a]"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(BLOCK, max_size=12).map("\n\n".join))
def test_prepare_anchors_every_link_once_and_ids_are_unique(body):
    html = parse(body).html
    page = prepare(html)
    # Nothing but anchors and ids were added: the links are the same, in sorted groups.
    assert sorted(LINK.findall(page.html)) == sorted(LINK.findall(html))
    ids = _Ids()
    ids.feed(page.html)
    assert len(ids.ids) == len(set(ids.ids))
    anchors = [anchor for group in page.cited_at.values() for anchor in group]
    assert sorted(anchors) == sorted(i for i in ids.ids if i.startswith("cite-"))
    assert len(anchors) == len(LINK.findall(html))


# The article page ----------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


class _Page(HTMLParser):
    """The references' back-links and the table of contents, as a browser would find them."""

    def __init__(self):
        super().__init__()
        self.backlinks, self.ids, self.contents = {}, set(), []
        self._reference = None
        self._nav = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "li" and attrs.get("id", "").startswith("ref-"):
            self._reference = int(attrs["id"][4:])
        if tag == "a" and attrs.get("class") == "backlink":
            self.backlinks.setdefault(self._reference, []).append(attrs["href"])
        if tag == "nav" and attrs.get("aria-label") == "Contents":
            self._nav = True
        if tag == "a" and self._nav:
            self.contents.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "nav":
            self._nav = False


def page_of(client, article):
    parser = _Page()
    response = client.get(article.get_absolute_url())
    parser.feed(response.content.decode())
    return parser, response.content.decode()


def test_each_reference_links_back_to_every_place_it_is_cited(client, make_study, make_article):
    for key in ("a", "b", "c"):
        make_study(key)
    article = make_article(body="One [@b]. Two [@a].\n\nThree [@b]. Four [@c; @a].", citations=0)
    page, html = page_of(client, article)
    assert page.backlinks == {
        1: ["#cite-1-1", "#cite-1-2"],
        2: ["#cite-2-1", "#cite-2-2"],
        3: ["#cite-3-1"],
    }
    assert all(href[1:] in page.ids for hrefs in page.backlinks.values() for href in hrefs)
    assert 'aria-label="Back to place 2 of 2 where reference 1 is cited"' in html
    assert 'aria-label="Back to where reference 3 is cited"' in html
    # "Four [@c; @a]" cites 3 and 2, and reads "2,3".
    assert re.search(
        r'Four <span[^>]*></span><sup><a href="#ref-2">2</a></sup><sup>,</sup>'
        r'<span[^>]*></span><sup><a href="#ref-3">3</a></sup>\.',
        html,
    )


def sections(count):
    return "\n\n".join(f"## Part {n}\n\nSome words about part {n} [@a]." for n in range(count))


@pytest.mark.parametrize(("headings", "has_contents"), [(3, False), (4, True)])
def test_long_articles_get_a_table_of_contents(
    client, make_study, make_article, headings, has_contents
):
    make_study("a")
    article = make_article(body=sections(headings), citations=0)
    page, html = page_of(client, article)
    if not has_contents:
        assert 'aria-label="Contents"' not in html
        return
    assert page.contents == [
        "#section-part-0",
        "#section-part-1",
        "#section-part-2",
        "#section-part-3",
        "#evidence-heading",
        "#references-heading",
    ]
    assert all(href[1:] in page.ids for href in page.contents)


def test_contents_threshold_is_a_setting(client, make_study, make_article, settings):
    make_study("a")
    settings.ARTICLE_CONTENTS_MIN_HEADINGS = 2
    article = make_article(body=sections(2), citations=0)
    assert 'aria-label="Contents"' in page_of(client, article)[1]


def test_article_page_with_contents_keeps_its_query_count(
    client, make_study, make_article, django_assert_max_num_queries
):
    make_study("a")
    article = make_article(body=sections(12), citations=0)
    # The same count as any article page on a first visit (tests/test_article_pages.py):
    # the article, its body, references, related articles, the clinic, the patients' questions.
    with django_assert_max_num_queries(6):
        response = client.get(article.get_absolute_url())
    assert response.content.decode().count('class="backlink"') == 12


# The topic's name ----------------------------------------------------------------------------


def test_demo_and_test_topic_is_no_longer_called_evidence(make_article):
    article = make_article()
    assert article.topic.name == "Research explained"
    assert not Topic.objects.filter(name="Evidence").exists()


rename = importlib.import_module("articles.migrations.0014_rename_evidence_topic")


def test_migration_renames_the_evidence_topic_and_back(make_article):
    old = Topic.objects.create(name="Evidence", slug="evidence")
    article = make_article(topic=old)
    rename.forwards(apps, None)
    old.refresh_from_db()
    assert (old.name, old.slug) == ("Research explained", "research-explained")
    rename.backwards(apps, None)
    old.refresh_from_db()
    assert (old.name, old.slug) == ("Evidence", "evidence")
    assert Article.objects.get(pk=article.pk).topic == old


def test_migration_merges_into_an_existing_research_explained_topic(make_article):
    old = Topic.objects.create(name="Evidence", slug="evidence")
    new = Topic.objects.create(name="Research explained", slug="research-explained")
    article = make_article(topic=old)
    rename.forwards(apps, None)
    assert not Topic.objects.filter(pk=old.pk).exists()
    assert Article.objects.get(pk=article.pk).topic == new
