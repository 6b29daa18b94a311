"""No Content-Security-Policy violation in a real browser (Debian's Chromium) on the patient
pages, the intake form and its result, and the admin's article review screen."""

import pytest
from django.urls import reverse

from tests.test_screening_browser import fill_routine

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Collected in the page itself: the event fires for every blocked script, style or frame.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e =>
    window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture
def page(browser_page):
    """A tab that records policy violations and console errors, for this test alone."""
    page = browser_page()
    page.console_errors = []

    def record_error(message):
        if message.type == "error":
            page.console_errors.append(message.text)

    page.on("console", record_error)
    # The tab is shared with later tests: the script goes when the test ends.
    with page.add_init_script(RECORD_VIOLATIONS):
        yield page
    page.remove_listener("console", record_error)


def assert_no_violation(page):
    assert page.evaluate("window.__csp") == [], page.url
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.url


def test_patient_pages_and_the_intake_form(page, make_article):
    article = make_article()
    for path in ["/", "/articles/", article.get_absolute_url(), "/evidence/", "/intake/"]:
        page.goto(page.base_url + path)
        assert_no_violation(page)
    page.goto(page.base_url + "/intake/")
    fill_routine(page)
    page.click("button.submit")  # not the header's search button
    page.wait_for_url("**/intake/result/**")
    assert_no_violation(page)
    assert not page.console_errors, page.console_errors


def test_admin_review_screen(page, make_article, make_reviewer):
    reviewer = make_reviewer("csp-reviewer")
    article = make_article(status="in_review")
    page.goto(page.base_url + "/admin/login/")
    page.fill("#id_username", reviewer.username)
    page.fill("#id_password", "pw-for-tests")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    for name in ["review", "change", "dossier"]:
        page.goto(page.base_url + reverse(f"admin:articles_article_{name}", args=[article.pk]))
        assert_no_violation(page)
    # Admin scripts run under the policy: the theme toggle is wired up by admin/js/theme.js.
    page.goto(page.base_url + reverse("admin:articles_article_review", args=[article.pk]))
    before = page.evaluate("localStorage.getItem('theme')")
    page.click("button.theme-toggle")
    assert page.evaluate("localStorage.getItem('theme')") != before
    assert_no_violation(page)
