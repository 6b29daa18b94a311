"""The intake form in a real browser: conditional questions, error focus, small screens.

Drives Debian's Chromium headless shell through Playwright; skipped when it is absent.
"""

import pytest

from screening.models import IntakeSubmission, Outcome

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("screening_cache"),
    pytest.mark.slow,
]


@pytest.fixture
def page(browser_page):
    return browser_page()


PAIN_SCALES = ["pain_now", "pain_average", "impact_daily", "impact_sleep"]


def fill_routine(page):
    """Type the contact details and choose the routine answer to every question.

    The choices are clicked inside the page in one call: the same click events a tap sends
    (so the form's scripts see each change), without some thirty Playwright round trips, each
    waiting for the element to hold still, that made this set-up most of each test's time.
    """
    from tests.conftest import ROUTINE_ANSWERS  # a plugin here: imported once loaded

    page.fill("#id_full_name", "Browser Patient")
    page.fill("#id_phone", "01632 960123")
    page.fill("#id_q_date_of_birth", "1980-03-31")
    asked_of_everyone = [key for key, answer in ROUTINE_ANSWERS.items() if answer == "no"]
    choices = [
        "#id_preferred_contact_0",
        "input[name=q_pain_location][value=lower_back]",
        "input[name=q_pain_duration][value=over_12_weeks]",
        *(f"input[name=q_{name}][value='3']" for name in PAIN_SCALES),
        # Every yes/no question of the live version that is asked of everyone.
        *(f"input[name={key}][value=no]" for key in asked_of_everyone),
        "#id_consent_contact",
        "#id_consent_privacy",
    ]
    page.evaluate(
        """(selectors) => selectors.forEach((selector) => {
            const input = document.querySelector(selector);
            if (!input) throw new Error(`no input matches ${selector}`);
            // What Playwright's check() would refuse: a control the patient cannot use.
            if (input.disabled || !input.checkVisibility()) {
                throw new Error(`${selector} is disabled or hidden`);
            }
            if (!input.checked) input.click();
            if (!input.checked) throw new Error(`${selector} did not become checked`);
        })""",
        choices,
    )


def test_conditional_question_appears_and_urgent_result_is_shown(page):
    page.goto(page.base_url + "/intake/")
    severe = page.locator("#id_q_injury_severe_wrap")
    assert severe.is_hidden()
    fill_routine(page)
    page.check("input[name=q_injury][value=yes]")
    assert severe.is_visible()
    page.check("input[name=q_injury_severe][value=yes]")
    page.click("button.submit")
    page.wait_for_url("**/intake/result/**")
    assert page.locator("h1").inner_text() == "Please get urgent medical help now"
    assert "Browser Patient" not in page.content()
    submission = IntakeSubmission.objects.get()
    assert submission.outcome == Outcome.URGENT


def test_errors_are_summarised_and_focused_and_answers_kept(page):
    page.goto(page.base_url + "/intake/")
    page.fill("#id_full_name", "Kept Name")
    page.click("button.submit")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.input_value("#id_full_name") == "Kept Name"
    page.click("#error-summary a[href='#id_q_pain_now_0']")
    assert page.evaluate("document.activeElement.id") == "id_q_pain_now_0"
    assert IntakeSubmission.objects.count() == 0


def test_form_fits_a_320px_screen_and_works_by_keyboard(page):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(page.base_url + "/intake/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.focus("#id_full_name")
    page.keyboard.type("Keyboard User")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_email"
    # The honeypot is never reached by Tab.
    assert page.get_attribute("#id_website", "tabindex") == "-1"


def test_double_click_stores_one_submission(page):
    page.goto(page.base_url + "/intake/")
    fill_routine(page)
    page.dblclick("button.submit")
    page.wait_for_url("**/intake/result/**")
    assert IntakeSubmission.objects.count() == 1


def test_back_and_resend_stores_one_submission_and_more_urgent_answers_are_not_hidden(page):
    page.goto(page.base_url + "/intake/")
    fill_routine(page)
    page.click("button.submit")
    page.wait_for_url("**/intake/result/**")
    result_url = page.url
    assert page.locator("#outcome-routine").is_visible()

    # Back: Chromium fetches the never-cached page again; it carries the same token.
    page.go_back()
    page.wait_for_selector("#already-sent")
    assert page.input_value("#id_full_name") == "Browser Patient"  # restored by the browser
    assert page.inner_text("button.submit") == "Send my answers"
    assert page.is_enabled("button.submit")
    page.click("button.submit")
    # The same result page (its signed advice is issued afresh, so the query differs).
    page.wait_for_url(result_url.split("?")[0] + "?*")
    assert IntakeSubmission.objects.count() == 1

    # Back again, change an answer to a red flag, resend: urgent advice, still one submission.
    page.go_back()
    page.wait_for_selector("#already-sent")
    page.check("input[name=q_bladder_bowel][value=yes]")
    page.click("button.submit")
    page.wait_for_url("**/intake/result/**changed=1")
    assert page.locator("h1").inner_text() == "Please get urgent medical help now"
    assert page.locator("#answers-changed").is_visible()
    submission = IntakeSubmission.objects.get()
    assert (submission.outcome, submission.escalated_outcome) == (Outcome.ROUTINE, Outcome.URGENT)


def test_button_is_usable_again_when_the_page_is_shown_from_the_back_forward_cache(page):
    page.goto(page.base_url + "/intake/")
    fill_routine(page)
    # Keep the page as it is mid-send: the form's own handler runs, the POST never leaves.
    page.evaluate(
        "document.getElementById('intake-form')"
        ".addEventListener('submit', (event) => event.preventDefault())"
    )
    page.click("button.submit")
    page.wait_for_function("document.querySelector('button.submit').disabled")
    assert page.inner_text("button.submit") == "Sending…"
    # What the browser does when Back restores a page from its back/forward cache.
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    assert page.is_enabled("button.submit")
    assert page.inner_text("button.submit") == "Send my answers"
    assert IntakeSubmission.objects.count() == 0


def test_errors_on_a_phone_are_short_and_the_summary_links_to_each_field(page):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(page.base_url + "/intake/")
    page.click("button.submit")
    page.wait_for_selector("#error-summary")
    fields_in_error = page.locator(".question.has-error").count()
    links = page.locator("#error-summary li a")
    assert fields_in_error > 10 and links.count() == fields_in_error
    line = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.field-error')).lineHeight)"
    )
    errors = page.evaluate(
        """() => [...document.querySelectorAll('.question.has-error')].map((wrap) => {
            const message = wrap.querySelector('.field-error');
            return {
                height: message.getBoundingClientRect().height,
                message: message.innerText,
                question: wrap.querySelector('legend, label').innerText,
            };
        })"""
    )
    assert len(errors) == fields_in_error
    for error in errors:
        # One short line under the question, never the question again.
        assert 0 < error["height"] <= 2 * line, error["message"]
        assert error["question"].split("(optional)")[0].strip() not in error["message"]
    # Each summary link reaches its field.
    links.nth(3).click()
    target = links.nth(3).get_attribute("href")[1:]
    assert page.evaluate("document.activeElement.id") == target
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_warning_sign_answer_shows_urgent_advice_at_once(page):
    page.goto(page.base_url + "/intake/")
    first_h2 = page.locator("#intake-form h2").first.inner_text()
    assert first_h2 == "Warning signs"
    advice = page.locator("#id_q_saddle_numbness_urgent")
    assert advice.is_hidden()
    page.check("input[name=q_saddle_numbness][value=yes]")
    assert advice.is_visible()
    assert "urgent care" in advice.inner_text()
    page.check("input[name=q_saddle_numbness][value=no]")
    assert advice.is_hidden()


def test_version_2_follow_ups_appear_after_yes_and_heart_problems_show_urgent_advice(page):
    page.goto(page.base_url + "/intake/")
    risks = page.locator("#id_q_health_risks_which_wrap")
    heart = page.locator("#id_q_heart_circulation_wrap")
    assert risks.is_hidden() and heart.is_hidden()
    page.check("input[name=q_health_risks][value=yes]")
    assert risks.is_visible()
    page.check("input[name=q_sudden_severe][value=yes]")
    assert heart.is_visible()
    advice = page.locator("#id_q_heart_circulation_urgent")
    assert advice.is_hidden()
    page.check("input[name=q_heart_circulation][value=yes]")
    assert advice.is_visible()
    fill_routine(page)  # answers "no" to the gates again: the follow-ups go
    assert risks.is_hidden() and heart.is_hidden()
    page.click("button.submit")
    page.wait_for_url("**/intake/result/**")
    assert IntakeSubmission.objects.get().outcome == Outcome.ROUTINE
