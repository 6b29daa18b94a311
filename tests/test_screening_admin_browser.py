"""The intake queue and submission pages in a real browser: clinical order, overdue marks, a
phone-sized screen, and axe-core's accessibility checks.

Drives Debian's Chromium headless shell through Playwright; skipped when it is absent.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from screening.models import IntakeSubmission, SubmissionNote, SubmissionStatus

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("screening_cache"),
]

LIST = "/admin/screening/intakesubmission/"


@pytest.fixture
def staff_page(browser_page, clinician):
    """A browser page signed in as a member of Clinical staff."""
    page = browser_page(width=1280, user=clinician)
    page.user = clinician
    return page


@pytest.fixture
def queue(submit):
    """Forms of every outcome, submitted hours apart, named by what they are."""
    now = timezone.now()
    forms = [
        # (name, answers that decide the outcome, hours ago, status)
        ("Routine oldest", {}, 30, SubmissionStatus.NEW),
        ("Review older", {"q_pregnant": "yes"}, 20, SubmissionStatus.NEW),
        ("Routine newer", {}, 10, SubmissionStatus.NEW),
        ("Urgent newer", {"q_bladder_bowel": "yes"}, 3, SubmissionStatus.NEW),
        ("Review newest", {"q_cancer_history": "yes"}, 1, SubmissionStatus.NEW),
        ("Urgent older", {"q_saddle_numbness": "yes"}, 5, SubmissionStatus.NEW),
        ("Urgent handled", {"q_fever_unwell": "yes"}, 2, SubmissionStatus.REFERRED),
    ]
    for name, answers, hours, status in forms:
        submit(full_name=name, **answers)
        IntakeSubmission.objects.filter(full_name=name).update(
            submitted_at=now - timedelta(hours=hours), status=status
        )
    # A routine form resent with urgent answers counts as urgent.
    IntakeSubmission.objects.filter(full_name="Routine newer").update(
        escalated_outcome="urgent", escalated_at=now, escalated_flags=[]
    )
    return {name: IntakeSubmission.objects.get(full_name=name) for name, *_ in forms}


def names_in_list(page):
    return page.locator("#result_list tbody td.field-full_name").all_inner_texts()


def test_queue_is_in_clinical_order_oldest_first(staff_page, queue):
    staff_page.goto(staff_page.base_url + LIST)
    assert names_in_list(staff_page) == [
        "Routine newer",  # escalated to urgent on resending, waiting longest of the urgent
        "Urgent older",
        "Urgent newer",
        "Review older",
        "Review newest",
        "Routine oldest",
        "Urgent handled",
    ]


def test_forms_waiting_longer_than_the_target_are_marked(staff_page, queue, settings):
    settings.INTAKE_TARGET_HOURS = {"urgent": 4, "review": 12, "routine": 48}
    staff_page.goto(staff_page.base_url + LIST)
    rows = staff_page.locator("#result_list tbody tr")
    marked = {
        rows.nth(i).locator("td.field-full_name").inner_text()
        for i in range(rows.count())
        if rows.nth(i).locator(".waiting-overdue").count()
    }
    # Urgent older (5 h > 4 h), Routine newer (escalated to urgent, 10 h), Review older (20 h).
    assert marked == {"Urgent older", "Routine newer", "Review older"}
    bar = staff_page.evaluate(
        "getComputedStyle(document.querySelector("
        "'#result_list tr:has(.waiting-overdue) > :first-child')).boxShadow"
    )
    assert "inset" in bar
    staff_page.goto(staff_page.base_url + LIST + "?waiting=over")
    assert sorted(names_in_list(staff_page)) == sorted(marked)


def test_assigned_to_me_filter(staff_page, queue, clinician, make_staff):
    IntakeSubmission.objects.filter(full_name="Review older").update(assignee=clinician)
    IntakeSubmission.objects.filter(full_name="Urgent older").update(assignee=make_staff())
    staff_page.goto(staff_page.base_url + LIST)
    staff_page.get_by_role("link", name="Me", exact=True).click()
    staff_page.wait_for_url("**assigned=me**")
    assert names_in_list(staff_page) == ["Review older"]


def test_queue_is_readable_on_a_phone(staff_page, queue):
    staff_page.set_viewport_size({"width": 375, "height": 740})
    staff_page.goto(staff_page.base_url + LIST)
    # Nothing runs off the side of the screen, so nothing needs sideways scrolling.
    assert staff_page.evaluate("document.documentElement.scrollWidth") <= 375
    first = staff_page.locator("#result_list tbody tr").first
    for cell in ["th.field-reference", "td.field-full_name", "td.field-outcome_badge"]:
        box = first.locator(cell).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 375, cell
    assert first.locator("td.field-full_name").inner_text() == "Routine newer"
    font = staff_page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#result_list td')).fontSize)"
    )
    assert font >= 13


@pytest.mark.parametrize("where", ["list", "submission"])
def test_axe_finds_no_violations(staff_page, queue, where, axe_scan):
    urgent = queue["Routine newer"]  # escalated: the page shows every part
    SubmissionNote.objects.create(submission=urgent, author=None, text="Automatic note.")
    url = LIST if where == "list" else f"{LIST}{urgent.pk}/change/"
    staff_page.goto(staff_page.base_url + url)
    assert axe_scan(staff_page) == []
