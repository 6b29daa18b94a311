"""Patient questions: asking, the staff queue, answers through the article gate, the article
page, the dossier, redaction and purge."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from articles import workflow
from articles.models import Article, Citation, Claim, Study, Verdict
from articles.study_changes import flag_articles_citing, notify_review_due, record_notice
from questions import answering
from questions.emergency import emergency_terms
from questions.models import PatientQuestion, PublicAnswer, QuestionStatus, published_answers
from questions.tasks import send_private_reply
from tests.conftest import refresh
from tests.html_tree import text, tree

pytestmark = pytest.mark.django_db

GOOD = {
    "question": "Does the benefit of acupuncture last after the sessions end?",
    "name": "J",
    "email": "j@example.com",
    "consent_to_publish": "on",
}


@pytest.fixture(autouse=True)
def _empty_cache():
    # The rate limit lives in the cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def article(make_article):
    return make_article(slug="needles")


def ask_url(article):
    return reverse("questions:ask", args=[article.slug])


# The emergency word list -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I have chest pain after a session", ["chest pain"]),
        ("I CAN NOT feel my legs since yesterday", ["can't feel my legs"]),
        ("I can\u2019t feel my legs", ["can't feel my legs"]),
        ("Problems with my bladder, is that normal?", ["bladder"]),
        ("Since yesterday I'm struggling to pee", ["struggling to pee"]),
        ("How many sessions do people usually need?", []),
        ("Is the embladdered test a word?", []),
    ],
)
def test_emergency_terms(text, expected):
    assert emergency_terms(text) == expected


@hsettings(max_examples=60)
@given(st.text())
def test_emergency_terms_never_fails_and_finds_a_phrase_inserted_anywhere(text):
    assert isinstance(emergency_terms(text), list)
    assert "chest pain" in emergency_terms(f"{text} chest pain {text}")


# Asking -----------------------------------------------------------------------------------


def test_article_page_links_to_the_form_and_holds_no_form_or_csrf_token(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    assert "Ask a question about this article" in html
    assert ask_url(article) in html
    assert "csrfmiddlewaretoken" not in html
    assert "<form" not in html or 'action="/search/' in html
    assert "Questions from patients" in html


def test_ask_page_warns_about_health_details_and_is_csrf_protected(client, article):
    response = client.get(ask_url(article))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please do not include personal health details" in html
    assert "csrfmiddlewaretoken" in html
    assert 'for="id_question"' in html and 'for="id_email"' in html
    assert "no-store" in response["Cache-Control"]
    csrf_client = client.__class__(enforce_csrf_checks=True)
    assert csrf_client.post(ask_url(article), GOOD).status_code == 403
    assert not PatientQuestion.objects.exists()


def test_a_question_is_stored_and_the_confirmation_carries_the_urgent_care_text(client, article):
    from clinic.models import ClinicDetails

    details = ClinicDetails.load()
    details.urgent_care_message = "Our urgent care words."
    details.save()
    response = client.post(ask_url(article), GOOD)
    assert response.status_code == 302
    question = PatientQuestion.objects.get()
    assert (question.article, question.text, question.email) == (
        article,
        GOOD["question"],
        "j@example.com",
    )
    assert question.consent_to_publish and not question.is_emergency
    assert question.status == QuestionStatus.NEW
    html = client.get(response["Location"]).content.decode()
    assert "we have your question" in html
    assert "Our urgent care words." in html


def test_an_emergency_question_gets_urgent_advice_and_is_flagged(client, article):
    response = client.post(
        ask_url(article), {**GOOD, "question": "Since the needles I can't feel my legs, why?"}
    )
    question = PatientQuestion.objects.get()
    assert question.is_emergency and question.emergency_terms == ["can't feel my legs"]
    html = client.get(response["Location"]).content.decode()
    assert "Please get urgent medical help now" in html
    assert "What you wrote can be a sign" in html
    # The flag is for this browser's confirmation only, once.
    assert (
        "Please get urgent medical help now"
        not in client.get(response["Location"]).content.decode()
    )


@pytest.mark.parametrize(
    "data, message",
    [
        ({**GOOD, "question": ""}, "Write your question."),
        ({**GOOD, "question": "short"}, "at least 10 characters"),
        ({**GOOD, "question": "x" * 1001}, "under 1000 characters"),
        (
            {**GOOD, "question": "Is it safe\x00 to have needles?"},
            "Null characters are not allowed",
        ),
        ({**GOOD, "question": "Is it safe\x07 to have needles?"}, "invisible control characters"),
        ({**GOOD, "email": "not-an-email"}, "Enter an email address"),
        ({**GOOD, "email": "", "consent_to_publish": ""}, "give an email address"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_kept(client, article, data, message):
    response = client.post(ask_url(article), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "<title>Error:" in html
    assert not PatientQuestion.objects.exists()
    if "\x00" not in data["question"] and len(data["question"]) < 100 and data["question"]:
        assert data["question"].replace("\x07", "") in html.replace("\x07", "")


def test_honeypot_stores_nothing_but_looks_sent(client, article):
    response = client.post(ask_url(article), {**GOOD, "website": "http://spam.example"})
    assert response.status_code == 302
    assert not PatientQuestion.objects.exists()


def test_rate_limit_keeps_the_question_and_stores_nothing_more(client, article, settings):
    settings.QUESTION_RATE_LIMIT = "2/h"
    assert client.post(ask_url(article), GOOD).status_code == 302
    assert client.post(ask_url(article), GOOD).status_code == 302
    # Forms with errors do not count and are not limited until the limit is reached.
    response = client.post(ask_url(article), GOOD)
    assert response.status_code == 429
    assert "has not been sent yet" in response.content.decode()
    assert GOOD["question"] in response.content.decode()
    assert PatientQuestion.objects.count() == 2


def test_asking_about_an_unpublished_article_is_404(client, make_article):
    draft = make_article(status="draft")
    assert client.get(ask_url(draft)).status_code == 404
    assert client.post(ask_url(draft), GOOD).status_code == 404


# The staff queue ---------------------------------------------------------------------------


@pytest.fixture
def question(article):
    return PatientQuestion.objects.create(
        article=article,
        text="My name is Sam Smith, 52. Does acupuncture help long term?",
        name="Sam",
        email="sam.secret@example.com",
        consent_to_publish=True,
    )


@pytest.mark.parametrize(
    "group, sees_email",
    [("Authors", False), ("Medical reviewers", False), ("Clinical staff", True)],
)
def test_queue_is_open_to_each_role_and_email_only_to_clinical_staff(
    client, make_user, question, group, sees_email
):
    client.force_login(make_user(groups=[group]))
    changelist = client.get(reverse("admin:questions_patientquestion_changelist"))
    assert changelist.status_code == 200
    assert "Articles that draw the most questions" in changelist.content.decode()
    change = client.get(reverse("admin:questions_patientquestion_change", args=[question.pk]))
    assert change.status_code == 200
    assert question.text in change.content.decode()
    assert ("sam.secret@example.com" in change.content.decode()) is sees_email
    search = client.get(reverse("admin:questions_patientquestion_changelist"), {"q": "sam.secret"})
    assert ("Question #" in search.content.decode()) is sees_email


def test_queue_refuses_anonymous_and_staff_without_a_role(client, make_user, question):
    url = reverse("admin:questions_patientquestion_change", args=[question.pk])
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(make_user())
    assert client.get(url).status_code == 403
    assert client.get(reverse("admin:questions_patientquestion_changelist")).status_code == 403


def test_most_asked_articles_come_first(client, make_user, make_article, question):
    other = make_article(slug="other", title="Other article")
    for _ in range(3):
        PatientQuestion.objects.create(article=other, text="A question about the other one?")
    client.force_login(make_user(groups=["Authors"]))
    html = client.get(reverse("admin:questions_patientquestion_changelist")).content.decode()
    section = html[html.index('id="most-asked"') :]
    assert section.index("Other article") < section.index("Acupuncture and back pain")
    assert "<td>3</td>" in section


def test_redaction_records_who_and_keeps_the_original(client, make_user, question):
    author = make_user(groups=["Authors"])
    client.force_login(author)
    url = reverse("admin:questions_patientquestion_change", args=[question.pk])
    response = client.post(
        url, {"status": "new", "public_text": "Does acupuncture help in the long term?"}
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.public_text == "Does acupuncture help in the long term?"
    assert question.text.startswith("My name is Sam Smith")
    assert question.redacted_by == author


def test_private_reply_is_queued_and_emailed_with_only_what_the_patient_wrote(
    client, make_user, question
):
    clinician = make_user(groups=["Clinical staff"])
    client.force_login(clinician)
    url = reverse("admin:questions_patientquestion_change", args=[question.pk])
    reply = "Studies found benefits fade over months for many people."
    response = client.post(url, {"status": "new", "public_text": "", "private_reply": reply})
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.status == QuestionStatus.ANSWERED_PRIVATELY
    assert mail.outbox == []  # the worker sends it
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [question.pk]
    assert send_private_reply.call(question.pk) == "sent"
    assert send_private_reply.call(question.pk) == "already sent"
    (email,) = mail.outbox
    assert email.to == ["sam.secret@example.com"]
    assert reply in email.body and question.text in email.body
    assert "Sam Smith" not in email.subject
    question.refresh_from_db()
    assert question.reply_sent_at is not None


def test_only_clinical_staff_can_reply_privately(client, make_user, question):
    client.force_login(make_user(groups=["Authors"]))
    url = reverse("admin:questions_patientquestion_change", args=[question.pk])
    client.post(url, {"status": "new", "public_text": "", "private_reply": "Some reply text."})
    question.refresh_from_db()
    assert question.private_reply == "" and question.reply_queued_at is None


# Public answers through the gate -----------------------------------------------------------


@pytest.fixture
def author(make_user):
    return make_user(groups=["Authors"])


@pytest.fixture
def redacted(question):
    question.public_text = "Does acupuncture help in the long term?"
    question.save()
    return question


def review(answer, reviewer, verdict=Verdict.SUPPORTS):
    for citation in Citation.objects.filter(claim__answer=answer):
        answering.record_verdict(
            citation,
            verdict=verdict,
            note="" if verdict == Verdict.SUPPORTS else "Too strong.",
            by=reviewer,
        )
    for claim in Claim.objects.filter(answer=answer):
        answering.set_certainty(claim, certainty="moderate", kind="effect", by=reviewer)


def test_answer_with_an_uncited_claim_is_refused(redacted, author, reviewer, make_study):
    study = make_study("longterm")
    answer = answering.save_answer(
        redacted,
        body="Benefits fade over months [@longterm]. Acupuncture cures sciatica in most people.",
        by=author,
    )
    answering.submit_answer(answer, by=author)
    review(answer, reviewer)
    with pytest.raises(answering.AnswerRefused) as refused:
        answering.approve_answer(answer, by=reviewer)
    assert "open_lint_warning" in refused.value.codes
    assert study.key in Citation.objects.filter(claim__answer=answer).values_list(
        "study__key", flat=True
    )


def test_a_submitted_answers_admin_page_is_for_reading(client, redacted, author, make_study):
    make_study("longterm")
    answer = answering.save_answer(
        redacted, body="Benefits fade over months [@longterm].", by=author
    )
    url = reverse("admin:questions_publicanswer_change", args=[answer.pk])
    client.force_login(author)
    assert 'name="_save"' in client.get(url).content.decode()  # a draft is edited here
    answering.submit_answer(answer, by=author)
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert "Claims, verdicts and certainty" in page.content.decode()  # the review link stays
    assert client.post(url, {"body": "Changed."}).status_code == 403
    answer.refresh_from_db()
    assert answer.body == "Benefits fade over months [@longterm]."


def test_answer_with_an_unverified_citation_or_by_its_own_writer_is_refused(
    redacted, make_reviewer, make_study
):
    make_study("longterm")
    writer = make_reviewer("drwriter")
    writer.groups.add(Group.objects.get(name="Authors"))
    answer = answering.save_answer(
        redacted, body="Benefits fade over months [@longterm].", by=writer
    )
    answering.submit_answer(answer, by=writer)
    with pytest.raises(answering.AnswerRefused) as refused:
        answering.approve_answer(answer, by=writer)
    assert {"unsupported_citation", "unrated_claim", "own_article"} <= refused.value.codes


def test_unknown_key_or_bad_marker_is_refused_when_saving(redacted, author):
    with pytest.raises(answering.AnswerRefused) as refused:
        answering.save_answer(redacted, body="Benefits fade [@nosuchstudy].", by=author)
    assert "unknown_key" in refused.value.codes
    with pytest.raises(answering.AnswerRefused):
        answering.save_answer(redacted, body="Benefits fade [@open.", by=author)
    assert not PublicAnswer.objects.exists()


def test_question_without_consent_or_redaction_cannot_be_submitted(question, author, make_study):
    make_study("longterm")
    answer = answering.save_answer(
        question, body="Benefits fade over months [@longterm].", by=author
    )
    with pytest.raises(answering.AnswerRefused) as refused:
        answering.submit_answer(answer, by=author)
    assert "not_redacted" in refused.value.codes


@pytest.fixture
def published(redacted, author, reviewer, make_study):
    make_study("longterm", title="Long-term follow-up of a needling trial")
    answer = answering.save_answer(
        redacted, body="Benefits fade over months [@longterm].", by=author
    )
    answering.submit_answer(answer, by=author)
    review(answer, reviewer)
    answering.approve_answer(answer, by=reviewer)
    return answering.publish_answer(answer, by=reviewer)


def test_a_reviewed_answer_is_published_under_the_article(client, published, article):
    question = published.question
    question.refresh_from_db()
    assert question.status == QuestionStatus.PUBLISHED
    html = client.get(article.get_absolute_url()).content.decode()
    section = html[html.index('id="questions"') :]
    assert "Does acupuncture help in the long term?" in section
    assert "Benefits fade over months" in section
    assert "Sam Smith" not in html and "sam.secret" not in html
    assert "Dr Drlee Tester</a>, medically reviewed on" in section
    assert f'href="#answer-{published.pk}-ref-1"' in section
    assert f'id="answer-{published.pk}-ref-1"' in section
    assert "Long-term follow-up of a needling trial" in section
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)[1]
    )
    (item,) = data["hasPart"]
    assert item["@type"] == "Question"
    assert item["name"] == "Does acupuncture help in the long term?"
    assert item["acceptedAnswer"]["@type"] == "Answer"
    assert "Benefits fade over months" in item["acceptedAnswer"]["text"]
    assert item["acceptedAnswer"]["author"]["name"] == "Dr Drlee Tester"
    assert list(published_answers()) == [published]
    assert published.get_absolute_url() == f"{article.get_absolute_url()}#question-{question.pk}"


def test_changing_the_redaction_after_approval_needs_a_new_review(
    redacted, author, reviewer, make_study
):
    make_study("longterm")
    answer = answering.save_answer(
        redacted, body="Benefits fade over months [@longterm].", by=author
    )
    answering.submit_answer(answer, by=author)
    review(answer, reviewer)
    answering.approve_answer(answer, by=reviewer)
    redacted.public_text = "Sam asks: does it help?"
    redacted.save()
    with pytest.raises(answering.AnswerRefused) as refused:
        answering.publish_answer(answer, by=reviewer)
    assert "redaction_changed" in refused.value.codes


def approved_answer(question, author, reviewer, body="Benefits fade over months [@longterm]."):
    """Another answer to the question, approved and ready to publish."""
    answer = answering.save_answer(question, body=body, by=author)
    answering.submit_answer(answer, by=author)
    review(answer, reviewer)
    return answering.approve_answer(answer, by=reviewer)


def retract_longterm(by):
    _notice, flags = record_notice(
        Study.objects.get(key="longterm"),
        nature="retraction",
        source="crossref",
        source_id="10.1/notice",
        by=by,
    )
    return flags


def test_a_retracted_study_flags_the_live_answer_citing_it_and_emails_its_approver(
    client, published, article, reviewer, make_reviewer
):
    article_due = refresh(article).next_review_due_on
    verifier = make_reviewer("drverifier")
    (flag,) = retract_longterm(verifier)
    assert (flag.article, flag.answer, flag.study.key) == (article, published, "longterm")
    assert flag.reason == "study_retracted" and flag.is_open()
    # The article's own text does not cite the study: it is not due for review because of it.
    assert refresh(article).next_review_due_on == article_due
    assert not Article.objects.review_due_now().exists()

    assert notify_review_due.call(flag.pk) == "sent"
    [email] = mail.outbox
    assert email.to == [reviewer.email]
    assert email.subject == f"Review due now: an answer under “{article.title}”"
    assert "an answer you approved" in email.body and "longterm" in email.body
    assert "seeing the answer as you approved it, with a notice that a study" in email.body
    assert f"/admin/questions/publicanswer/{published.pk}/review/" in email.body

    client.force_login(verifier)
    flags = reverse("admin:articles_reviewflag_changelist")
    answer_flags = client.get(flags, {"about": "answer", "open": "yes"}).content.decode()
    assert f"Answer to question #{published.question_id}" in answer_flags
    article_flags = client.get(flags, {"about": "article"}).content.decode()
    assert f"Answer to question #{published.question_id}" not in article_flags
    closed_flags = client.get(flags, {"open": "no"}).content.decode()
    assert f"Answer to question #{published.question_id}" not in closed_flags


NOTICES = '//*[contains(concat(" ", @class, " "), " retraction-notice ")]'


def test_patients_are_told_above_an_answer_that_a_study_it_cites_was_retracted(
    client, published, article, make_reviewer
):
    assert not tree(client.get(article.get_absolute_url())).xpath(NOTICES)
    retract_longterm(make_reviewer("drverifier"))
    page = tree(client.get(article.get_absolute_url()))
    # One notice, inside the answer: the article's own references are not retracted.
    (notice,) = page.xpath(NOTICES)
    assert notice.xpath(f'ancestor::*[@id="{published.anchor}"]')
    assert "Since our clinician reviewed this answer, a study it relies on has been" in text(notice)
    (link,) = notice.xpath(".//a")
    assert (link.get("href"), text(link)) == (f"#answer-{published.pk}-ref-1", "Reference 1")


def test_the_answer_list_shows_which_live_answers_are_due_for_review(
    client, published, author, reviewer, make_reviewer
):
    answers = reverse("admin:questions_publicanswer_changelist")
    client.force_login(reviewer)
    assert str(published) not in client.get(answers, {"review": "due"}).content.decode()
    flag_articles_citing(Study.objects.get(key="longterm"), reason="study_changed")
    assert str(published) in client.get(answers, {"review": "due"}).content.decode()
    # Replaced by an answer approved after the flag: nothing is due any more.
    answering.publish_answer(approved_answer(published.question, author, reviewer), by=reviewer)
    assert str(published) not in client.get(answers, {"review": "due"}).content.decode()
    page = tree(client.get(answers))
    assert page.xpath('//th[contains(@class, "column-review_due_now")]')


def test_an_answer_flag_closes_only_for_an_answer_approved_after_it(
    published, author, reviewer, make_reviewer
):
    approved_earlier = approved_answer(published.question, author, reviewer)
    study = Study.objects.get(key="longterm")
    (flag,) = flag_articles_citing(study, reason="study_changed", by=make_reviewer("drverifier"))
    answering.publish_answer(approved_earlier, by=reviewer)
    assert flag.is_open()  # nobody checked that answer against the change

    newer = approved_answer(published.question, author, reviewer)
    answering.publish_answer(newer, by=reviewer)
    assert not flag.is_open()


def test_withdrawing_the_answer_closes_its_flag_and_no_email_is_sent(
    published, reviewer, make_reviewer
):
    (flag,) = retract_longterm(make_reviewer("drverifier"))
    answering.withdraw_answer(published, by=reviewer)
    assert not flag.is_open()
    assert notify_review_due.call(flag.pk) == "closed"
    assert mail.outbox == []


def test_an_answer_under_an_unpublished_article_is_flagged_too(
    published, article, reviewer, make_reviewer
):
    workflow.unpublish(refresh(article), by=reviewer)
    (flag,) = retract_longterm(make_reviewer("drverifier"))
    assert flag.answer == published
    workflow.publish(refresh(article), by=reviewer)
    assert flag.is_open()


def test_the_article_reviewer_is_told_when_the_approver_cannot_be_emailed(
    published, article, reviewer, make_reviewer
):
    type(reviewer).objects.filter(pk=reviewer.pk).update(email="")
    article_reviewer = make_reviewer("drarticle")
    Article.objects.filter(pk=article.pk).update(reviewer=article_reviewer)
    (flag,) = retract_longterm(make_reviewer("drverifier"))
    assert notify_review_due.call(flag.pk) == "sent"
    assert [email.to for email in mail.outbox] == [[article_reviewer.email]]


def test_withdrawn_answer_leaves_the_page_and_the_search_queryset(client, published, reviewer):
    answering.withdraw_answer(published, by=reviewer)
    html = client.get(published.question.article.get_absolute_url()).content.decode()
    assert "Benefits fade over months" not in html
    assert not published_answers().exists()


def test_article_page_queries_stay_flat_with_answers(
    client,
    published,
    article,
    redacted,
    author,
    reviewer,
    make_study,
    django_assert_max_num_queries,
):
    for number in range(3):
        other = PatientQuestion.objects.create(
            article=article,
            text="Another question?",
            consent_to_publish=True,
            public_text=f"Another question {number}?",
        )
        answer = answering.save_answer(
            other, body="Benefits fade over months [@longterm].", by=author
        )
        answering.submit_answer(answer, by=author)
        review(answer, reviewer)
        answering.approve_answer(answer, by=reviewer)
        answering.publish_answer(answer, by=reviewer)
    # 7: the article, its body, references, related, the clinic, the answers, their citations;
    # the rendered parts are then kept per revision (see test_article_pages).
    with django_assert_max_num_queries(7):
        response = client.get(article.get_absolute_url())
    assert response.content.decode().count('class="patient-question"') == 4


def test_review_screen_records_verdicts_and_approves(
    client, redacted, author, reviewer, make_study
):
    make_study("longterm")
    answer = answering.save_answer(
        redacted, body="Benefits fade over months [@longterm].", by=author
    )
    answering.submit_answer(answer, by=author)
    citation = Citation.objects.get(claim__answer=answer)
    claim = citation.claim
    client.force_login(reviewer)
    url = reverse("admin:questions_publicanswer_review", args=[answer.pk])
    assert client.get(url).status_code == 200
    data = {
        "citation-TOTAL_FORMS": "1",
        "citation-INITIAL_FORMS": "1",
        "citation-0-id": citation.pk,
        "citation-0-verdict": "supports",
        "citation-0-verdict_note": "",
        "claim-TOTAL_FORMS": "1",
        "claim-INITIAL_FORMS": "1",
        "claim-0-id": claim.pk,
        "claim-0-kind": "effect",
        "claim-0-certainty": "low",
        "claim-0-wording": "",
        "claim-0-wording_text": "",
        "approve": "1",
    }
    assert client.post(url, data).status_code == 302
    answer.refresh_from_db()
    assert answer.approved_by == reviewer
    # An author cannot record verdicts there.
    client.force_login(author)
    assert "review-form" not in client.get(url).content.decode()


# Audit, redaction and purge ----------------------------------------------------------------


def test_dossier_shows_answers_for_the_dates_they_were_live(client, published, reviewer, article):
    client.force_login(reviewer)
    url = reverse("admin:articles_article_dossier", args=[article.pk])
    html = client.get(url).content.decode()
    section = html[html.index('id="dossier-answers"') :]
    assert "My name is Sam Smith" in section  # the original, kept for the audit
    assert "Does acupuncture help in the long term?" in section
    answering.withdraw_answer(published, by=reviewer)
    # Withdrawn: a later dossier has none, one for a moment when it was live still has it.
    html = client.get(url).content.decode()
    assert "My name is Sam Smith" not in html[html.index('id="dossier-answers"') :]
    published.refresh_from_db()
    moment = published.published_at + (published.retired_at - published.published_at) / 2
    html = client.get(url, {"at": moment.isoformat()}).content.decode()
    assert "My name is Sam Smith" in html[html.index('id="dossier-answers"') :]


def test_purge_deletes_old_unpublished_questions_and_personal_details(published, article):
    old = timezone.now() - timedelta(days=400)
    unpublished = PatientQuestion.objects.create(
        article=article, text="An old question?", email="old@example.com"
    )
    recent = PatientQuestion.objects.create(
        article=article, text="A new one?", email="new@example.com"
    )
    PatientQuestion.objects.filter(pk__in=[unpublished.pk, published.question_id]).update(
        asked_at=old
    )

    call_command("purge_submissions", "--older-than", "365", verbosity=0)
    assert PatientQuestion.objects.filter(pk=unpublished.pk).exists()  # a dry run

    call_command("purge_submissions", "--older-than", "365", "--yes", verbosity=0)
    assert not PatientQuestion.objects.filter(pk=unpublished.pk).exists()
    kept = PatientQuestion.objects.get(pk=published.question_id)
    assert (kept.email, kept.name) == ("", "")
    assert kept.text.startswith("My name is Sam Smith")  # the audit record stays
    assert PatientQuestion.objects.get(pk=recent.pk).email == "new@example.com"
    assert published_answers().count() == 1


def test_purge_keeps_a_question_whose_answer_was_published_then_withdrawn(
    published, reviewer, make_reviewer
):
    record_notice(
        Study.objects.get(key="longterm"),
        nature="retraction",
        source="crossref",
        source_id="10.1/notice",
        by=make_reviewer("drverifier"),
    )
    answering.withdraw_answer(published, by=reviewer)
    question = PatientQuestion.objects.get(pk=published.question_id)
    assert question.status == QuestionStatus.NEW
    PatientQuestion.objects.filter(pk=question.pk).update(
        asked_at=timezone.now() - timedelta(days=400)
    )
    call_command("purge_submissions", "--older-than", "365", "--yes", verbosity=0)
    kept = PatientQuestion.objects.get(pk=question.pk)  # patients read its answer
    assert (kept.email, kept.name) == ("", "")
    assert PublicAnswer.objects.get(pk=published.pk).review_flags.count() == 1


def search_hits(client, words):
    """The result links of the public search page for `words`."""
    html = client.get("/search/", {"q": words}).content.decode()
    return re.findall(r'<a href="([^"]*#question-\d+)"', html)


def test_published_answer_is_found_by_site_search_until_withdrawn(client, published, reviewer):
    anchor = published.get_absolute_url()
    assert search_hits(client, "benefits fade") == [anchor]
    assert search_hits(client, "long term") == [anchor]  # the redacted question is indexed
    answering.withdraw_answer(published, by=reviewer)
    assert search_hits(client, "benefits fade") == []


def test_answer_leaves_search_with_its_article_and_comes_back(client, published, reviewer):
    article = published.question.article
    workflow.unpublish(article, by=reviewer)
    assert search_hits(client, "benefits fade") == []
    workflow.publish(refresh(article), by=reviewer)
    assert search_hits(client, "benefits fade") == [published.get_absolute_url()]


def test_a_replaced_answer_leaves_the_search_index(client, published, author, reviewer):
    newer = approved_answer(
        published.question, author, reviewer, body="Effects wear off within a year [@longterm]."
    )
    answering.publish_answer(newer, by=reviewer)
    published.refresh_from_db()
    assert published.retired_at is not None
    assert search_hits(client, "wear off") == [newer.get_absolute_url()]
    assert search_hits(client, "benefits fade") == []


def test_urgent_advice_is_shown_also_when_the_question_is_sent_back(client, article):
    response = client.post(
        ask_url(article), {"question": "Since the needles I can't feel my legs, what now?"}
    )
    assert response.status_code == 400
    assert not PatientQuestion.objects.exists()
    assert response.context["urgent"] is True
    assert "Ask a question" in response.content.decode()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I keep getting chest pains after needling", ["chest pain"]),
        ("Overdoses worry me", ["overdose"]),
    ],
)
def test_plural_emergency_words_count(text, expected):
    assert emergency_terms(text) == expected


@pytest.mark.parametrize("role", ["Authors", "Medical reviewers"])
@pytest.mark.parametrize(
    "lookup",
    [
        {"email": "pat.patient@example.com"},
        {"name__istartswith": "pat pat"},
        {"private_reply__icontains": "your MRI"},
    ],
)
def test_staff_who_may_not_see_personal_details_cannot_filter_by_them(
    client, article, make_staff, role, lookup
):
    PatientQuestion.objects.create(
        article=article,
        text="Does acupuncture help my back after a fall?",
        name="Pat Patient",
        email="pat.patient@example.com",
        private_reply="Please bring your MRI report.",
    )
    client.force_login(make_staff(role))
    queue = reverse("admin:questions_patientquestion_changelist")
    assert client.get(queue).status_code == 200
    refused = client.get(queue, lookup)
    assert refused.status_code == 400
    assert "after a fall" not in refused.content.decode()


def test_clinical_staff_may_filter_by_email(client, article, clinician):
    PatientQuestion.objects.create(
        article=article, text="Does it help?", name="Pat", email="pat@example.com"
    )
    client.force_login(clinician)
    response = client.get(
        reverse("admin:questions_patientquestion_changelist"), {"email": "pat@example.com"}
    )
    assert response.status_code == 200 and "1 patient question" in response.content.decode()


def test_a_question_is_stored_while_the_cache_is_unreachable(client, article, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "clinic.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    assert client.post(ask_url(article), GOOD).status_code == 302
    assert PatientQuestion.objects.get().text == GOOD["question"]
