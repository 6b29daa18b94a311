"""Author tools on the article change page: slug from the title, study-key suggestions,
unknown keys with their lines, readability, and the staff preview of drafts."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from articles.body import parse
from articles.forms import citation_errors
from articles.models import Article
from articles.readability import measure, plain_text

pytestmark = pytest.mark.django_db

ADD = reverse("admin:articles_article_add")


@pytest.fixture
def author(make_user):
    return make_user("writer", groups=["Authors"])


def form(author, **overrides):
    data = {
        "title": "Acupuncture and back pain",
        "slug": "",
        "summary": "What the studies found.",
        "body": "Acupuncture beat usual care at 8 weeks [@cherkin2009].",
        "topic": "",
        "author": author.pk,
    }
    return data | overrides


# Slug ----------------------------------------------------------------------------------------


def test_empty_slug_is_made_from_the_title(client, author, make_study):
    make_study("cherkin2009")
    client.force_login(author)
    response = client.post(ADD, form(author, title="Acupuncture: does it help? (2024)"))
    assert response.status_code == 302
    assert Article.objects.get().slug == "acupuncture-does-it-help-2024"


def test_slug_made_from_the_title_is_unique(client, author, make_study, make_article):
    make_study("cherkin2009")
    make_article("back-pain")
    make_article("back-pain-2")
    client.force_login(author)
    assert client.post(ADD, form(author, title="Back pain")).status_code == 302
    assert Article.objects.filter(slug="back-pain-3").exists()


def test_a_typed_slug_is_kept_and_a_taken_one_refused(client, author, make_study, make_article):
    make_study("cherkin2009")
    make_article("taken")
    client.force_login(author)
    assert client.post(ADD, form(author, slug="my-own")).status_code == 302
    assert Article.objects.filter(slug="my-own").exists()
    response = client.post(ADD, form(author, slug="taken"))
    assert response.status_code == 200
    assert "slug" in response.context["adminform"].form.errors


@pytest.mark.parametrize(
    ("title", "expected"),
    [("Ça va? Œdème", "ca-va-deme"), ("日本語", "article"), ("x" * 300, "x" * 120)],
)
def test_free_slug_handles_accents_scripts_and_length(title, expected):
    assert Article.objects.free_slug(title) == expected


def test_free_slug_of_a_long_title_stays_within_the_field(make_article):
    long = "y" * 120
    make_article(long)
    slug = Article.objects.free_slug(long)
    assert slug == "y" * 118 + "-2" and len(slug) == 120


def test_change_page_loads_the_slug_and_key_scripts(client, author, make_study):
    client.force_login(author)
    html = client.get(ADD).content.decode()
    assert "admin/js/urlify.js" in html and "js/article-slug.js" in html
    assert "js/study-keys.js" in html


# Study keys ----------------------------------------------------------------------------------


class _Datalist(HTMLParser):
    def __init__(self):
        super().__init__()
        self.options, self.labels, self.lists = [], {}, {}
        self._in_datalist = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "option" and self._in_datalist:
            self.options.append(attrs["value"])
        elif tag == "datalist":
            self._in_datalist = True
            self.lists[attrs["id"]] = attrs.get("data-for")
        elif tag == "input" and attrs.get("list"):
            self.labels.setdefault("inputs", []).append(attrs)

    def handle_endtag(self, tag):
        if tag == "datalist":
            self._in_datalist = False


def test_body_has_a_datalist_of_study_keys_for_a_labelled_finder(client, author, make_study):
    make_study("cherkin2009", title="Acupuncture for chronic low back pain")
    make_study("haake2007")
    client.force_login(author)
    html = client.get(ADD).content.decode()
    parsed = _Datalist()
    parsed.feed(html)
    assert parsed.options == ["cherkin2009", "haake2007"]
    assert parsed.lists == {"id_body_study_keys": "id_body"}
    (finder,) = parsed.labels["inputs"]
    assert finder["list"] == "id_body_study_keys" and "name" not in finder  # never posted
    assert f'<label for="{finder["id"]}">' in html


# Unknown keys --------------------------------------------------------------------------------


def test_unknown_key_error_names_its_lines(make_study):
    make_study("cherkin2009")
    body = "Fine [@cherkin2009].\n\nWrong [@nosuch].\n\nAgain [@nosuch; @other].\n\nAnd [@nosuch]."
    messages = [error.message % error.params for error in citation_errors(parse(body))]
    assert messages == [
        "Lines 3, 5 and 7: unknown citation key “nosuch”: no study in the library has this key. "
        "Check the spelling or add the study first.",
        "Line 5: unknown citation key “other”: no study in the library has this key. "
        "Check the spelling or add the study first.",
    ]


def test_unknown_key_on_the_form_keeps_the_text(client, author, make_study):
    make_study("cherkin2009")
    client.force_login(author)
    body = "Fine [@cherkin2009].\n\n\n\nWrong key [@cherkn2009]."
    response = client.post(ADD, form(author, body=body))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()["body"]
    assert [error.code for error in errors] == ["unknown_key"]
    assert "Line 5: unknown citation key “cherkn2009”" in response.content.decode()
    assert "Wrong key [@cherkn2009]." in response.content.decode()
    assert not Article.objects.exists()


# Readability ---------------------------------------------------------------------------------


def test_plain_text_drops_citation_numbers_and_code_and_ends_blocks():
    html = parse(
        "## What helps\n\nNeedles helped [@a; @b]. A lot [@a].\n\n- walking\n- rest\n\n"
        "`code [@a]`\n\n```\nblock\n```\n"
    ).html
    assert plain_text(html) == "What helps.\nNeedles helped. A lot.\nwalking.\nrest."


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=300))
def test_measure_never_fails_and_finds_no_words_in_empty_text(text):
    scores = measure(parse(text).html)
    if scores is not None:
        assert scores.words > 0 and scores.reading_age == round(scores.grade + 5)


SIMPLE = "The pain got better. Most people felt a bit less pain. It did not last long.\n\n" * 3
HARD = (
    "Electroacupuncture demonstrated statistically significant improvements in "
    "functional disability indices relative to conventional pharmacological management, "
    "notwithstanding considerable methodological heterogeneity across investigations "
    "[@cherkin2009].\n\n"
) * 3


def change_page(client, article):
    return client.get(reverse("admin:articles_article_change", args=[article.pk]))


def test_change_page_shows_the_reading_grade_within_the_limit(
    client, author, make_article, make_study
):
    make_study("x")
    article = make_article(author=author, body=SIMPLE + "Claim [@x].", status="draft", citations=0)
    client.force_login(author)
    html = change_page(client, article).content.decode()
    assert "Reading grade <strong>" in html and "reading age of about" in html
    assert "Within the clinic's limit of grade 9" in html
    assert "readability-warning" not in html


def test_change_page_warns_above_the_configured_grade(
    client, author, make_article, make_study, settings
):
    make_study("cherkin2009")
    article = make_article(author=author, body=HARD, status="draft", citations=0)
    client.force_login(author)
    html = change_page(client, article).content.decode()
    assert "readability-warning" in html and "limit (grade 9)" in html
    assert measure(article.draft.rendered_html).grade > 9
    settings.ARTICLE_MAX_READING_GRADE = 40
    assert "readability-warning" not in change_page(client, article).content.decode()


# Preview -------------------------------------------------------------------------------------


def test_preview_serves_a_draft_to_staff_as_patients_would_see_it(client, author, make_article):
    article = make_article(author=author, status="draft")
    preview = reverse("admin:articles_article_preview", args=[article.pk])
    assert client.get(article.get_absolute_url()).status_code == 404  # not public
    assert client.get(preview).status_code == 302  # login first
    client.force_login(author)
    response = client.get(preview)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Preview — not published" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]
    # The patients' page: the article template with the citations and the references.
    assert response.templates[0].name == "articles/article_detail.html"
    assert '<sup><a href="#ref-1">1</a></sup>' in html and 'id="ref-3"' in html


def test_preview_of_the_live_revision_says_so(client, author, make_article):
    article = make_article(author=author)
    client.force_login(author)
    html = client.get(reverse("admin:articles_article_preview", args=[article.pk])).content
    assert "Preview — this is the published version" in html.decode()
    assert "not published" not in html.decode()
