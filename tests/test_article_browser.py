"""The article page on a phone (375 px wide) in a real browser: citation tap targets of at
least 24 x 24 px that do not spread the lines, references that link back, the table of
contents, and no axe-core violations.

Drives Debian's Chromium headless shell through Playwright; skipped when it is absent.
"""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BODY = "\n\n".join(
    [
        "## Does it help?",
        "Needling beat usual care at 8 weeks [@cherkin2009]. Sham needling did about as well "
        "in a large German trial [@haake2007; @cherkin2009, table 2]. The benefit was small "
        "on average and did not last long for most people [@chou2017].",
        "A short line.",
        "A short line [@chou2017].",
        "## Is it safe?",
        "Serious harms are rare when a trained practitioner uses sterile needles [@haake2007].",
        "## What to expect",
        "A session lasts about half an hour.",
        "## Cost",
        "Some insurers pay for it.",
    ]
)


@pytest.fixture
def phone(browser_page, make_study, make_article):
    for key in ("cherkin2009", "haake2007", "chou2017"):
        make_study(key)
    article = make_article(body=BODY, citations=0)
    page = browser_page(width=375, height=740)
    page.goto(page.base_url + article.get_absolute_url())
    return page


def test_citation_links_are_at_least_24_px_square_on_a_phone(phone):
    links = phone.locator(".prose sup a")
    assert links.count() == 6
    for index in range(links.count()):
        box = links.nth(index).bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, (index, box)
    for box in [a.bounding_box() for a in phone.locator(".backlink").all()]:
        assert box["width"] >= 24 and box["height"] >= 24, box


def test_citations_do_not_spread_the_lines(phone):
    plain, cited = (
        phone.locator(".prose p", has_text="A short line").nth(n).bounding_box() for n in (0, 1)
    )
    assert cited["height"] == plain["height"]
    # A paragraph of several lines with citations inside: every line is exactly the page's
    # line height, so the paragraph is a whole number of lines tall.
    paragraph = phone.locator(".prose p", has_text="Needling beat usual care")
    line_height = paragraph.evaluate("p => parseFloat(getComputedStyle(p).lineHeight)")
    lines = paragraph.bounding_box()["height"] / line_height
    assert lines > 3
    assert abs(lines - round(lines)) < 0.02, lines


def test_citation_and_back_link_round_trip(phone):
    phone.locator('sup a[href="#ref-2"]').first.click()
    assert phone.evaluate("location.hash") == "#ref-2"
    phone.locator("#ref-2 .backlink").first.click()
    assert phone.evaluate("location.hash") == "#cite-2-1"
    expect(phone.locator("#cite-2-1 + sup a")).to_be_in_viewport()


def test_contents_lists_the_sections_and_jumps_to_them(phone):
    contents = phone.get_by_role("navigation", name="Contents")
    assert contents.get_by_role("link").all_inner_texts() == [
        "Does it help?",
        "Is it safe?",
        "What to expect",
        "Cost",
        "How strong is the evidence?",
        "References",
    ]
    contents.get_by_role("link", name="Cost").click()
    expect(phone.get_by_role("heading", name="Cost")).to_be_in_viewport()


def test_article_page_has_no_axe_violations(phone, axe_scan):
    assert axe_scan(phone) == []
