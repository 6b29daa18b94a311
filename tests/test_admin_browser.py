"""The article admin in a real browser: zero axe-core violations on the login page, the
article list and the review screen, and the author tools' scripts (slug from the title,
study-key suggestions while typing a marker).

Drives Debian's Chromium headless shell through Playwright; skipped when it is absent.
"""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def in_review(make_article, make_study, make_user):
    """An article in review with a lint warning, a multi-study claim and a topic filter."""
    make_study("cherkin2009")
    make_study("haake2007")
    body = (
        "## What the trials found\n\n"
        "Needling beat usual care at 8 weeks [@cherkin2009].\n\n"
        "Sham needling did about as well [@haake2007; @cherkin2009, table 2].\n\n"
        "Acupuncture cures back pain for most people."
    )
    author = make_user("writer", groups=["Authors"])
    make_article(status="published", author=author)  # more rows and filter choices
    return make_article(status="in_review", body=body, author=author, citations=0)


def test_admin_login_page_has_no_axe_violations(browser_page, axe_scan):
    page = browser_page()
    page.goto(page.base_url + reverse("admin:login"))
    assert page.locator("h1").count() == 1
    assert axe_scan(page) == []


@pytest.mark.parametrize("where", ["list", "list_filtered", "review"])
def test_article_admin_has_no_axe_violations(browser_page, axe_scan, in_review, reviewer, where):
    page = browser_page(width=1280, user=reviewer)
    url = {
        "list": reverse("admin:articles_article_changelist"),
        "list_filtered": reverse("admin:articles_article_changelist") + "?status__exact=in_review",
        "review": reverse("admin:articles_article_review", args=[in_review.pk]),
    }[where]
    page.goto(page.base_url + url)
    if where.startswith("list"):
        # The filter links are there to be measured (axe's target-size rule).
        assert page.locator("#changelist-filter a").count() >= 8
    else:
        assert page.locator("select[name$='-verdict']").count() == 3
    assert axe_scan(page) == []


def test_filter_links_are_at_least_24_px_tall(browser_page, in_review, reviewer):
    page = browser_page(width=1280, user=reviewer)
    page.goto(page.base_url + reverse("admin:articles_article_changelist"))
    heights = page.evaluate(
        "[...document.querySelectorAll('#changelist-filter li a')]"
        ".map(a => a.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 24


def test_slug_follows_the_title_until_typed_by_hand(browser_page, make_user):
    page = browser_page(width=1280, user=make_user("writer", groups=["Authors"]))
    page.goto(page.base_url + reverse("admin:articles_article_add"))
    page.fill("#id_title", "Is acupuncture safe? What the studies say")
    page.locator("#id_title").press("End")
    page.keyboard.type("!")  # `fill` sets the value; typing fires the input events too
    assert page.input_value("#id_slug") == "is-acupuncture-safe-what-the-studies-say"
    page.fill("#id_slug", "")
    page.locator("#id_slug").press_sequentially("safety")
    page.locator("#id_title").press_sequentially(" Now")
    assert page.input_value("#id_slug") == "safety"


def test_study_keys_are_suggested_while_typing_a_marker(browser_page, make_user, make_study):
    make_study("cherkin2009", title="Acupuncture for chronic low back pain")
    make_study("chou2017", title="Nonpharmacologic therapies for low back pain")
    make_study("haake2007", title="German acupuncture trials")
    page = browser_page(width=1280, user=make_user("writer", groups=["Authors"]))
    page.goto(page.base_url + reverse("admin:articles_article_add"))
    body = page.locator("#id_body")
    body.press_sequentially("Needles helped [@ch")
    suggestions = page.locator(".key-suggestions button")
    assert suggestions.evaluate_all("bs => bs.map(b => b.dataset.key)") == [
        "cherkin2009",
        "chou2017",
    ]
    assert "2 study keys match" in page.locator(".key-suggestions-status").inner_text()
    body.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("#id_body") == "Needles helped [@chou2017]"
    # A second key in the same marker, then a text with no marker open: no suggestions.
    body.press("ArrowLeft")
    body.press_sequentially("; @haa")
    page.locator(".key-suggestions button", has_text="haake2007").click()
    assert page.input_value("#id_body") == "Needles helped [@chou2017; @haake2007]"
    body.press("End")
    body.press_sequentially(". More text")
    assert page.locator(".key-suggestions").is_hidden()
