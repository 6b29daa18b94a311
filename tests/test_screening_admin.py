"""Staff review in the admin: who may see submissions, what they may change, what is recorded."""

import csv
import io
import json
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from screening.models import (
    AccessKind,
    IntakeSubmission,
    Outcome,
    Question,
    Questionnaire,
    QuestionnaireStatus,
    SubmissionAccess,
    SubmissionStatus,
)
from tests.html_tree import tree

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("screening_cache")]

LIST = "/admin/screening/intakesubmission/"


@pytest.fixture
def submission(submit):
    submit(full_name="Pat Patient", q_saddle_numbness="yes")
    return IntakeSubmission.objects.get()


def submission_urls(pk):
    return {
        "list": LIST,
        "search": f"{LIST}?q=Pat",
        "filtered list": f"{LIST}?outcome__exact=urgent",
        "detail": f"{LIST}{pk}/change/",
        "history": f"{LIST}{pk}/history/",
        "delete": f"{LIST}{pk}/delete/",
        "add": f"{LIST}add/",
        "fhir download": f"{LIST}{pk}/fhir/",
    }


@pytest.mark.parametrize("who", ["author", "reviewer", "plain staff"])
def test_non_clinical_staff_get_403_everywhere_a_submission_shows(
    client, submission, non_clinical_staff, who
):
    client.force_login(non_clinical_staff[who])
    for name, url in submission_urls(submission.pk).items():
        response = client.get(url)
        assert response.status_code == 403, f"{who} got {response.status_code} on {name}"
        assert b"Pat Patient" not in response.content
    for action in ["export_csv", "export_fhir"]:
        response = client.post(LIST, {"action": action, "_selected_action": [submission.pk]})
        assert response.status_code == 403, action
    index = client.get("/admin/").content.decode()
    assert "intakesubmission" not in index
    assert not SubmissionAccess.objects.exists()


def test_superuser_and_clinician_open_every_submission_page(
    client, submission, clinician, make_staff
):
    for user in [clinician, make_staff(superuser=True)]:
        client.force_login(user)
        urls = submission_urls(submission.pk)
        for name in ["list", "search", "filtered list", "detail", "history", "fhir download"]:
            assert client.get(urls[name]).status_code == 200, name
        for name in ["delete", "add"]:
            assert client.get(urls[name]).status_code == 403, name
    assert b"Pat Patient" in client.get(f"{LIST}?q=Pat").content


def test_anonymous_visitors_are_sent_to_the_login_page(client, submission):
    for url in submission_urls(submission.pk).values():
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_detail_shows_answers_as_asked_flags_and_who_viewed(client, submission, clinician):
    client.force_login(clinician)
    first = client.get(f"{LIST}{submission.pk}/change/").content.decode()
    assert "Do you have numbness, tingling or less feeling around your bottom" in first
    assert "URGENT" in first
    assert "nerves at the base of the spine" in first
    second = client.get(f"{LIST}{submission.pk}/change/").content.decode()
    assert clinician.username in second  # the first view is in the access log
    accesses = SubmissionAccess.objects.filter(submission=submission)
    assert [(a.user, a.kind) for a in accesses] == [(clinician, AccessKind.VIEWED)] * 2


def test_only_status_assignee_and_notes_can_change(client, submission, clinician):
    client.force_login(clinician)
    response = client.post(
        f"{LIST}{submission.pk}/change/",
        {
            "status": SubmissionStatus.CONTACTED,
            "assignee": clinician.pk,
            "full_name": "Changed Name",
            "outcome": "routine",
            "answers": "[]",
            "notes-TOTAL_FORMS": "1",
            "notes-INITIAL_FORMS": "0",
            "notes-MIN_NUM_FORMS": "0",
            "notes-MAX_NUM_FORMS": "1000",
            "notes-0-text": "Called, advised A&E.",
            "notes-0-submission": submission.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.CONTACTED
    assert submission.assignee == clinician
    assert submission.full_name == "Pat Patient"
    assert submission.outcome == "urgent"
    assert submission.answers
    note = submission.notes.get()
    assert (note.text, note.author) == ("Called, advised A&E.", clinician)
    assert LogEntry.objects.filter(object_id=str(submission.pk)).exists()


def test_assignee_choices_are_clinical_staff_only(
    client, submission, clinician, non_clinical_staff
):
    client.force_login(clinician)
    html = client.get(f"{LIST}{submission.pk}/change/").content.decode()
    assert f'value="{clinician.pk}"' in html
    assert f'value="{non_clinical_staff["author"].pk}"' not in html


def test_queue_is_urgent_then_review_then_routine_oldest_first_then_handled(
    client, submit, clinician
):
    submit(full_name="Old Urgent", q_bladder_bowel="yes")
    submit(full_name="Routine One")
    submit(full_name="Handled Urgent", q_fever_unwell="yes")
    submit(full_name="Newest Review", q_pregnant="yes")
    IntakeSubmission.objects.filter(full_name="Handled Urgent").update(
        status=SubmissionStatus.REFERRED
    )
    client.force_login(clinician)
    html = client.get(LIST).content.decode()
    order = sorted(["Old Urgent", "Routine One", "Handled Urgent", "Newest Review"], key=html.index)
    assert order == ["Old Urgent", "Newest Review", "Routine One", "Handled Urgent"]


def test_queue_pages_show_every_form_once_in_clinical_order(client, submit, clinician, monkeypatch):
    from screening.admin import IntakeSubmissionAdmin

    names = ["Old Urgent", "Routine One", "Handled Urgent", "Newest Review", "Routine Two"]
    for name, answers in zip(
        names,
        [{"q_bladder_bowel": "yes"}, {}, {"q_fever_unwell": "yes"}, {"q_pregnant": "yes"}, {}],
        strict=True,
    ):
        submit(full_name=name, **answers)
    IntakeSubmission.objects.filter(full_name="Handled Urgent").update(
        status=SubmissionStatus.REFERRED
    )
    # Two to a page: the pages are found by key first (screening.admin.QueuePaginator).
    monkeypatch.setattr(IntakeSubmissionAdmin, "list_per_page", 2)
    client.force_login(clinician)
    shown = []
    for page in (1, 2, 3):
        html = client.get(LIST, {"p": page}).content.decode()
        shown += sorted((name for name in names if name in html), key=html.index)
    assert shown == ["Old Urgent", "Newest Review", "Routine One", "Routine Two", "Handled Urgent"]


def test_overdue_and_waiting_follow_the_target_for_the_current_outcome(submit, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.INTAKE_TARGET_HOURS = {"urgent": 1, "review": 24, "routine": 24}
    submit(full_name="Late Urgent", q_bladder_bowel="yes")
    submit(full_name="Fresh Routine")
    submit(full_name="Escalated", q_pregnant="yes")
    submit(full_name="Handled Late", q_fever_unwell="yes")
    two_hours_ago = timezone.now() - timedelta(hours=2)
    IntakeSubmission.objects.update(submitted_at=two_hours_ago)
    IntakeSubmission.objects.filter(full_name="Escalated").update(escalated_outcome="urgent")
    IntakeSubmission.objects.filter(full_name="Handled Late").update(status="booked")
    overdue = IntakeSubmission.objects.overdue()
    assert sorted(overdue.values_list("full_name", flat=True)) == ["Escalated", "Late Urgent"]
    assert [s.is_overdue() for s in IntakeSubmission.objects.order_by("pk")] == [
        True,
        False,
        True,
        False,
    ]


def test_assigned_to_me_filter_shows_only_my_forms(client, submit, clinician, make_staff):
    submit(full_name="Mine")
    submit(full_name="Theirs")
    submit(full_name="Nobodys")
    IntakeSubmission.objects.filter(full_name="Mine").update(assignee=clinician)
    IntakeSubmission.objects.filter(full_name="Theirs").update(assignee=make_staff())
    client.force_login(clinician)
    mine = client.get(f"{LIST}?assigned=me").content.decode()
    assert "Mine" in mine and "Theirs" not in mine and "Nobodys" not in mine
    nobody = client.get(f"{LIST}?assigned=nobody").content.decode()
    assert "Nobodys" in nobody and "Mine" not in nobody


def test_outcome_filter_and_column_count_a_more_urgent_resend(client, submit, clinician):
    submit(full_name="Routine Only")
    submit(full_name="Review Form", q_pregnant="yes")
    submit(full_name="Resent Urgent")
    submit(full_name="Urgent Form", q_saddle_numbness="yes")
    IntakeSubmission.objects.filter(full_name="Resent Urgent").update(
        escalated_outcome=Outcome.URGENT
    )
    client.force_login(clinician)

    def names(query):
        rows = tree(client.get(f"{LIST}?{query}")).xpath('//table[@id="result_list"]/tbody/tr')
        return sorted(
            name
            for row in rows
            for name in ("Routine Only", "Review Form", "Resent Urgent", "Urgent Form")
            if name in row.text_content()
        )

    assert names("outcome__exact=urgent") == ["Resent Urgent", "Urgent Form"]
    assert names("outcome__exact=review") == ["Review Form"]
    assert names("outcome__exact=routine") == ["Routine Only"]
    # Sorted by the outcome column: urgent first, the resent form with them.
    rows = tree(client.get(f"{LIST}?o=3")).xpath('//table[@id="result_list"]/tbody/tr')
    first_two = " ".join(row.text_content() for row in rows[:2])
    assert "Urgent Form" in first_two and "Resent Urgent" in first_two
    assert "Review Form" in rows[2].text_content()


def test_csv_export_is_formula_safe_and_recorded(client, submit, clinician):
    submit(full_name='=HYPERLINK("http://evil")', q_tried_notes="@SUM(A1)", phone="+44 1632 960123")
    submit(full_name="-2+3", q_tried_notes="plain")
    client.force_login(clinician)
    pks = list(IntakeSubmission.objects.values_list("pk", flat=True))
    response = client.post(LIST, {"action": "export_csv", "_selected_action": pks})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 2
    names = {row["full_name"] for row in rows}
    assert names == {'\'=HYPERLINK("http://evil")', "'-2+3"}
    # Inside a cell, not at its start, where a spreadsheet does not run it.
    tried = {line for row in rows for line in row["answers"].splitlines() if "tried_notes" in line}
    assert tried == {"tried_notes: @SUM(A1)", "tried_notes: plain"}
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@")), cell
    assert SubmissionAccess.objects.filter(kind=AccessKind.EXPORTED_CSV).count() == 2


def test_clinical_staff_without_export_permission_cannot_export(client, submission, clinician):
    from django.contrib.auth.models import Group

    Group.objects.get(name="Clinical staff").permissions.remove(
        *Group.objects.get(name="Clinical staff").permissions.filter(codename="export_submission")
    )
    client.force_login(clinician)
    assert client.get(f"{LIST}{submission.pk}/fhir/").status_code == 403
    response = client.post(LIST, {"action": "export_csv", "_selected_action": [submission.pk]})
    # No export action is offered to them, so the admin just shows the list again.
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert not tree(response).xpath("//select[@name='action']/option[@value='export_csv']")
    assert not SubmissionAccess.objects.filter(kind=AccessKind.EXPORTED_CSV).exists()


def test_fhir_download_is_recorded(client, submission, clinician):
    client.force_login(clinician)
    response = client.get(f"{LIST}{submission.pk}/fhir/")
    assert response["Content-Type"] == "application/fhir+json; fhirVersion=4.0"
    assert json.loads(response.content)["resourceType"] == "QuestionnaireResponse"
    assert (
        SubmissionAccess.objects.filter(kind=AccessKind.EXPORTED_FHIR, user=clinician).count() == 1
    )


def test_active_questionnaire_cannot_be_edited_in_place(
    client, questionnaire, clinician, make_staff
):
    for user in [clinician, make_staff(superuser=True)]:
        client.force_login(user)
        url = f"/admin/screening/questionnaire/{questionnaire.pk}/change/"
        assert client.get(url).status_code == 200  # readable
        response = client.post(url, {"title": "Hijacked", "privacy_notice": "x"})
        assert response.status_code == 403
        question = questionnaire.questions.first()
        assert (
            client.post(
                f"/admin/screening/question/{question.pk}/change/", {"text": "x"}
            ).status_code
            == 403
        )
    questionnaire.refresh_from_db()
    assert questionnaire.title == "Back pain intake form"


def test_draft_is_edited_then_activated_and_old_submissions_stay_as_asked(
    client, submit, questionnaire, clinician
):
    submit(full_name="Before Change")
    old = IntakeSubmission.objects.get()
    client.force_login(clinician)
    response = client.post(
        "/admin/screening/questionnaire/",
        {"action": "clone_as_draft", "_selected_action": [questionnaire.pk]},
    )
    assert response.status_code == 302
    draft = Questionnaire.objects.get(status=QuestionnaireStatus.DRAFT)
    question = draft.questions.get(key="pain_now")
    change = client.get(f"/admin/screening/question/{question.pk}/change/")
    assert change.status_code == 200
    question.text = "On a scale of 0 to 10, how bad is the pain today?"
    question.save()
    response = client.post(
        "/admin/screening/questionnaire/", {"action": "activate", "_selected_action": [draft.pk]}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    questionnaire.refresh_from_db()
    assert (draft.status, questionnaire.status) == ("active", "retired")
    assert draft.activated_by == clinician
    assert "On a scale of 0 to 10" in client.get("/intake/").content.decode()
    detail = client.get(f"{LIST}{old.pk}/change/").content.decode()
    assert "How strong is the pain right now?" in detail
    assert "On a scale of 0 to 10" not in detail
    retired = client.get(f"/admin/screening/questionnaire/{questionnaire.pk}/change/")
    assert retired.status_code == 200


def test_only_one_version_can_be_active(questionnaire):
    from django.db import IntegrityError, transaction

    draft = questionnaire.clone_as_draft()
    draft.status = QuestionnaireStatus.ACTIVE
    with pytest.raises(IntegrityError), transaction.atomic():
        draft.save()


def test_a_draft_copies_every_question_and_rule_in_a_few_statements(
    questionnaire, django_assert_max_num_queries
):
    def row(obj):
        """Every stored value, with links to questions as their keys."""
        values = {}
        for field in type(obj)._meta.concrete_fields:
            if field.name in ("id", "questionnaire"):
                continue
            value = getattr(obj, field.name)
            values[field.name] = value.key if isinstance(value, Question) else value
        return values

    def shape(version):
        questions = [row(question) for question in version.questions.order_by("position")]
        rules = sorted(
            (row(rule) for rule in version.flag_rules.all()), key=lambda values: repr(values)
        )
        return questions, rules

    with django_assert_max_num_queries(10):
        draft = questionnaire.clone_as_draft()
    assert draft.status == QuestionnaireStatus.DRAFT
    assert draft.version == questionnaire.version + 1
    assert shape(draft) == shape(questionnaire)
    questions, rules = shape(draft)
    assert any(values["shown_if_question"] for values in questions), "a conditional question"
    assert any(values["also_question"] for values in rules), "a rule on two answers"
    # The copy's conditions and rules point at its own questions, not the original's.
    assert (
        not draft.questions.exclude(shown_if_question=None)
        .exclude(shown_if_question__questionnaire=draft)
        .exists()
    )
    assert not draft.flag_rules.exclude(question__questionnaire=draft).exists()
    assert (
        not draft.flag_rules.exclude(also_question=None)
        .exclude(also_question__questionnaire=draft)
        .exists()
    )


def test_a_condition_on_another_versions_question_is_left_for_the_author_to_fix(questionnaire):
    draft = questionnaire.clone_as_draft()
    dependent = draft.questions.exclude(shown_if_question=None).first()
    # As when its trigger question was moved to another version by hand.
    dependent.shown_if_question = questionnaire.questions.get(key=dependent.shown_if_question.key)
    dependent.save()

    copy = draft.clone_as_draft()

    assert copy.questions.get(key=dependent.key).shown_if_question is None
    assert copy.activation_problems()


def test_activating_a_broken_draft_is_refused(client, questionnaire, clinician):
    draft = questionnaire.clone_as_draft()
    draft.questions.filter(key="pain_duration").update(options="only-one")
    client.force_login(clinician)
    response = client.post(
        "/admin/screening/questionnaire/",
        {"action": "activate", "_selected_action": [draft.pk]},
        follow=True,
    )
    assert "cannot be activated" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == QuestionnaireStatus.DRAFT


def test_every_screening_admin_page_opens_for_a_superuser(
    client, submission, questionnaire, make_staff
):
    client.force_login(make_staff(superuser=True))
    question = questionnaire.questions.first()
    draft = questionnaire.clone_as_draft()
    urls = [
        "/admin/",
        "/admin/screening/",
        "/admin/screening/questionnaire/",
        "/admin/screening/questionnaire/add/",
        f"/admin/screening/questionnaire/{questionnaire.pk}/change/",
        f"/admin/screening/questionnaire/{draft.pk}/change/",
        f"/admin/screening/questionnaire/{questionnaire.pk}/fhir/",
        f"/admin/screening/questionnaire/{questionnaire.pk}/history/",
        "/admin/screening/question/",
        f"/admin/screening/question/{question.pk}/change/",
        f"/admin/screening/question/{draft.questions.first().pk}/change/",
        LIST,
        f"{LIST}{submission.pk}/change/",
        f"{LIST}{submission.pk}/fhir/",
        reverse("admin:screening_questionnaire_changelist") + "?status__exact=draft",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
    for url in [
        "/admin/screening/submissionaccess/",
        f"/admin/screening/submissionaccess/{SubmissionAccess.objects.first().pk}/change/",
        "/admin/screening/submissionaccess/?kind__exact=searched",
    ]:
        assert client.get(url).status_code == 200, url
    response = client.post(
        "/admin/screening/questionnaire/",
        {"action": "export_fhir", "_selected_action": [questionnaire.pk, draft.pk]},
    )
    assert json.loads(response.content)["resourceType"] == "Bundle"


@pytest.mark.parametrize(
    "url",
    ["/admin/screening/intakesubmission/abc/fhir/", "/admin/screening/questionnaire/abc/fhir/"],
)
def test_fhir_download_with_a_malformed_id_is_404(client, questionnaire, make_staff, url):
    client.force_login(make_staff(superuser=True))
    assert client.get(url).status_code == 404
    assert client.get(url.replace("abc", "999999")).status_code == 404


def test_list_and_search_views_are_recorded_with_the_query(client, submission, clinician):
    client.force_login(clinician)
    client.get(LIST)
    client.get(f"{LIST}?q=Pat+Patient&outcome__exact=urgent")
    client.get(f"{LIST}?status__exact=new")
    accesses = SubmissionAccess.objects.filter(submission=None).order_by("at", "pk")
    assert [(a.user, a.kind, a.query) for a in accesses] == [
        (clinician, AccessKind.LISTED, ""),
        (clinician, AccessKind.SEARCHED, "q=Pat Patient&outcome__exact=urgent"),
        (clinician, AccessKind.LISTED, "status__exact=new"),
    ]
    # Actions are logged as exports, not as list views.
    client.post(LIST, {"action": "export_csv", "_selected_action": [submission.pk]})
    assert SubmissionAccess.objects.filter(submission=None).count() == 3


def test_access_log_is_shown_to_clinical_staff(client, submission, clinician, make_staff):
    client.force_login(clinician)
    client.get(f"{LIST}?q=Pat")
    client.get(f"{LIST}{submission.pk}/change/")
    # The Clinical staff group may read the log (a migration grants it); nobody edits it.
    html = client.get("/admin/screening/submissionaccess/").content.decode()
    assert "q=Pat" in html and "Searched" in html
    assert clinician.username in html
    assert f"#{submission.pk}" in html
    log = SubmissionAccess.objects.get(kind=AccessKind.VIEWED)
    page = client.get(f"/admin/screening/submissionaccess/{log.pk}/change/")
    assert page.status_code == 200
    client.force_login(make_staff(superuser=True))
    assert client.post(f"/admin/screening/submissionaccess/{log.pk}/delete/").status_code == 403
    assert client.get("/admin/screening/submissionaccess/add/").status_code == 403


def test_non_clinical_staff_cannot_read_the_access_log(client, submission, make_staff):
    snoop = make_staff("Authors", permissions=["view_submissionaccess"])
    client.force_login(snoop)
    assert client.get("/admin/screening/submissionaccess/").status_code == 403


def test_a_more_urgent_resend_is_shown_to_staff_and_sorted_with_the_urgent(
    client, submit, intake_data, clinician
):
    data = intake_data(full_name="Later Urgent")
    client.post("/intake/", data)
    submit(full_name="Newer Routine")
    client.post("/intake/", {**data, "q_saddle_numbness": "yes"})
    escalated = IntakeSubmission.objects.get(full_name="Later Urgent")
    client.force_login(clinician)
    html = client.get(LIST).content.decode()
    assert html.index("Later Urgent") < html.index("Newer Routine")
    assert "Urgent on resending" in html
    detail = client.get(f"{LIST}{escalated.pk}/change/").content.decode()
    assert "the same form was sent again with changed answers" in detail
    assert "Automatic note" in detail and "automatic" in detail


def test_condition_choices_on_a_question_page_are_that_versions_questions(
    client, questionnaire, clinician
):
    draft = questionnaire.clone_as_draft()
    question = draft.questions.get(key="injury_severe")
    client.force_login(clinician)
    html = client.get(f"/admin/screening/question/{question.pk}/change/").content.decode()
    draft_pks = set(draft.questions.values_list("pk", flat=True))

    def offered(name):
        select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
        assert select, name
        return {int(pk) for pk in re.findall(r'<option value="(\d+)"', select.group(0))}

    # "Shown if" and the flag rules' "and also" offer this draft's questions, never v1's.
    for name in ["shown_if_question", "flag_rules-0-also_question"]:
        assert offered(name) == draft_pks, name


def test_outcome_badges_are_styled_by_class_not_inline(client, submit, clinician):
    submit(full_name="Urgent Patient", q_bladder_bowel="yes")
    client.force_login(clinician)
    html = client.get(LIST).content.decode()
    assert 'class="outcome-badge outcome-urgent"' in html
    assert "css/admin-screening.css" in html
    assert 'style="color' not in html


def test_notes_read_as_a_list_with_one_labelled_box_and_no_none_in_history(
    client, submission, clinician
):
    from django.contrib.admin.models import LogEntry

    from screening.models import SubmissionNote

    SubmissionNote.objects.create(submission=submission, author=None, text="Automatic: resent.")
    client.force_login(clinician)
    url = f"{LIST}{submission.pk}/change/"
    html = client.get(url).content.decode()
    assert html.count('<label for="id_notes-') == 1
    assert '<label for="id_notes-1-text">Add a note</label>' in html
    assert "__prefix__" not in html
    assert "Automatic: resent." in html and "<th></th>" not in html
    response = client.post(
        url,
        {
            "status": "new",
            "assignee": "",
            "notes-TOTAL_FORMS": "2",
            "notes-INITIAL_FORMS": "1",
            "notes-MIN_NUM_FORMS": "0",
            "notes-MAX_NUM_FORMS": "1000",
            "notes-0-id": submission.notes.get().pk,
            "notes-0-submission": submission.pk,
            "notes-1-text": "Left a voicemail.",
            "notes-1-submission": submission.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(submission.notes.values_list("text", flat=True)) == [
        "Automatic: resent.",
        "Left a voicemail.",
    ]
    history = client.get(f"{LIST}{submission.pk}/history/").content.decode()
    assert f"by {clinician.username} at" in history
    assert "None" not in history
    automatic = submission.notes.get(author=None)
    assert str(automatic).startswith(f"Note on Intake #{submission.pk} by automatic at ")
    assert LogEntry.objects.filter(object_id=str(submission.pk)).count() == 1
