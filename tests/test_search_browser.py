"""Search in a real browser at phone width with JavaScript off."""

import pytest

from tests.test_browser_pages import check_page

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_header_box_searches_at_phone_width_without_javascript(
    browser_page, make_article, make_study
):
    make_study("needles2009", title="Needles compared with sham needles in a long trial " * 3)
    article = make_article(title="What happens at a needles session")
    page = browser_page(width=320, height=640, javascript=False)
    page.goto(page.base_url + "/")
    box = page.get_by_role("searchbox", name="Search articles and studies")
    assert box.is_visible()
    right_edge = page.evaluate(
        "() => document.querySelector('.site-search button').getBoundingClientRect().right"
    )
    assert right_edge <= 320
    box.fill("needle")
    box.press("Enter")
    page.wait_for_url("**/search/?q=needle")
    check_page(page, page.url)
    assert page.get_by_role("status").inner_text().startswith("2 results")
    assert page.locator(".search-results mark").count() >= 2
    page.get_by_role("link", name="What happens at a needles session").click()
    assert page.url == page.base_url + article.get_absolute_url()
