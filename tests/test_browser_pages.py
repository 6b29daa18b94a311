"""Public pages in a real browser (Debian's Chromium via Playwright): phone width, no JS,
landmarks and heading order."""

import itertools

import pytest

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.slow,
]


HEADING_LEVELS = """() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]
    .map(h => Number(h.tagName[1]))"""


def check_page(page, url):
    page.goto(url)
    # Nothing wider than a small phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, url
    assert page.locator("main").count() == 1
    assert page.locator("header nav").count() == 1 and page.locator("footer").count() == 1
    levels = page.evaluate(HEADING_LEVELS)
    assert levels[0] == 1 and levels.count(1) == 1, (url, levels)
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), (url, levels)
    assert page.evaluate("[...document.images].every(img => img.alt)"), url


def test_public_pages_at_phone_width_without_javascript(browser_page, make_article, make_study):
    make_study("cherkin2009", title="A very long study title " * 6)
    body = (
        "## Findings\n\nA claim with a long unbroken word "
        "Pneumonoultramicroscopicsilicovolcanoconiosisxxxxxxxxxxxxxxxxxxxx [@cherkin2009].\n\n"
        "| Group | Improved |\n|---|---|\n| Real needling | 47.6% |\n| Sham | 44.2% |\n\n"
        "### Detail\n\nMore text [@cherkin2009, p. 861]."
    )
    article = make_article(body=body)
    page = browser_page(width=320, height=640, javascript=False)
    for path in [
        "/",
        "/articles/",
        article.get_absolute_url(),
        "/evidence/",
        "/evidence/cherkin2009/",
    ]:
        check_page(page, page.base_url + path)
    page.goto(page.base_url + article.get_absolute_url())
    # A citation link jumps to its reference, which names the study.
    page.click('sup a[href="#ref-1"]')
    assert "A very long study title" in page.locator("#ref-1").inner_text()


def test_article_prints_without_navigation(browser_page, make_article):
    article = make_article()
    page = browser_page()
    page.goto(page.base_url + article.get_absolute_url())
    page.emulate_media(media="print")
    try:
        assert page.locator("header nav").is_hidden()
        assert page.locator("#references-heading").is_visible()
    finally:
        page.emulate_media(media="null")
