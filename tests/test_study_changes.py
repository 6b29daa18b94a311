"""Studies stay as reviewed: fixed keys, changes through a reviewer, review flags, retractions."""

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from articles import workflow
from articles.models import (
    Article,
    Citation,
    ReviewFlag,
    Study,
    StudyChange,
    StudyChangeStatus,
    StudyType,
)
from articles.study_changes import (
    StudyChangeRefused,
    accept_change,
    flag_articles_citing,
    flagged_message,
    notify_review_due,
    propose_change,
)
from tests.conftest import refresh, review_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(make_user):
    return make_user("writer", groups=["Authors"])


@pytest.fixture
def study(make_study):
    return make_study("cherkin2009", title="Original reviewed title", doi="10.1/original")


@pytest.fixture
def live(make_article, study, reviewer):
    return make_article(body="Needling beat usual care [@cherkin2009].", reviewer=reviewer)


def study_form(study, **changes):
    form = {
        "key": study.key,
        "study_type": study.study_type,
        "finding": study.finding,
        "authors": study.authors,
        "title": study.title,
        "journal": study.journal,
        "year": study.year,
        "doi": study.doi,
        "pmid": study.pmid,
        "citations-TOTAL_FORMS": 0,
        "citations-INITIAL_FORMS": 0,
    }
    return {**form, **changes}


def section(html, pattern):
    """The text of the first element matching `pattern` (an opening tag up to its end)."""
    found = re.search(pattern, html, re.S)
    return re.sub(r"<[^>]+>", " ", found.group(0)) if found else None


def references(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    return section(html, r'<ol class="references">.*?</ol>')


def retraction_notice(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    return section(html, r'<div class="notice danger retraction-notice".*?</div>')


def republish(article, author, reviewer):
    """The re-review: a new revision of the same text, submitted, reviewed, published."""
    revision = article.live_revision
    workflow.save_draft(
        article, title=revision.title, summary=revision.summary, body=revision.body, by=author
    )
    workflow.submit_for_review(refresh(article), by=author)
    article = refresh(article)
    review_everything(article, reviewer)
    workflow.approve(article, by=reviewer)
    return workflow.publish(refresh(article), by=reviewer)


def test_authors_edit_to_a_cited_study_waits_for_a_reviewer(client, author, study, live):
    url = reverse("admin:articles_study_change", args=[study.pk])
    client.force_login(author)
    response = client.post(url, study_form(study, title="Edited by the author"), follow=True)
    assert "saved as a proposal" in response.content.decode()

    study.refresh_from_db()
    assert study.title == "Original reviewed title"
    change = StudyChange.objects.get()
    assert change.status == StudyChangeStatus.PENDING and change.proposed_by == author
    assert change.proposed == {"title": "Edited by the author"}
    client.logout()
    assert "Original reviewed title" in references(client, live)
    assert "Edited by the author" not in client.get(study.get_absolute_url()).content.decode()


def test_accepted_change_is_recorded_and_flags_live_articles(
    client, author, reviewer, study, live, make_article, make_study
):
    make_study("other2020")
    other = make_article(body="Another claim [@other2020].")
    change = propose_change(study, {"title": "Corrected title"}, by=author)
    accept_change(change, by=reviewer)

    change.refresh_from_db()
    assert change.status == StudyChangeStatus.ACCEPTED
    assert change.decided_by == reviewer and change.decided_at is not None
    study.refresh_from_db()
    assert study.title == "Corrected title"
    # The library page patients read shows the accepted change…
    assert "Corrected title" in client.get(study.get_absolute_url()).content.decode()
    # …but the live article still shows the study as it was reviewed, until re-reviewed.
    assert "Original reviewed title" in references(client, live)
    assert list(Article.objects.review_due_now()) == [live]
    assert other not in Article.objects.review_due_now()
    assert refresh(live).next_review_due_on <= change.decided_at.date()

    live = republish(refresh(live), author, reviewer)
    assert "Corrected title" in references(client, live)
    assert not Article.objects.review_due_now().exists()


def test_reviewer_is_emailed_through_the_task_worker(author, reviewer, study, live):
    accept_change(propose_change(study, {"doi": "10.1/corrected"}, by=author), by=reviewer)
    flag = ReviewFlag.objects.get()
    task = DBTaskResult.objects.get(task_path="articles.study_changes.notify_review_due")
    assert task.args_kwargs["args"] == [flag.pk]

    assert notify_review_due.call(flag.pk) == "sent"
    [email] = mail.outbox
    assert email.to == [reviewer.email]
    assert "Review due now" in email.subject and "cherkin2009" in email.body
    assert notify_review_due.call(flag.pk) == "already sent"
    assert len(mail.outbox) == 1


def test_flags_show_in_the_admin(client, author, reviewer, study, live):
    accept_change(propose_change(study, {"title": "New title"}, by=author), by=reviewer)
    client.force_login(reviewer)
    listing = client.get(reverse("admin:articles_article_changelist"), {"review": "now"})
    assert live.title in listing.content.decode()
    flags = client.get(reverse("admin:articles_reviewflag_changelist")).content.decode()
    assert live.title in flags and "A cited study was changed" in flags


def test_author_cannot_accept_a_study_change(client, author, study, live):
    change = propose_change(study, {"title": "Mine"}, by=author)
    with pytest.raises(StudyChangeRefused, match="Only a medical reviewer"):
        accept_change(change, by=author)
    client.force_login(author)
    client.post(
        reverse("admin:articles_studychange_changelist"),
        {"action": "accept", "_selected_action": [change.pk]},
    )
    change.refresh_from_db()
    study.refresh_from_db()
    assert change.status == StudyChangeStatus.PENDING and study.title != "Mine"
    assert not ReviewFlag.objects.exists()


def test_reviewer_accepts_in_the_admin(client, author, reviewer, study, live):
    change = propose_change(study, {"title": "Fixed"}, by=author)
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:articles_studychange_changelist"),
        {"action": "accept", "_selected_action": [change.pk]},
        follow=True,
    )
    assert "Accepted 1 change(s)." in response.content.decode()
    study.refresh_from_db()
    assert study.title == "Fixed"


def test_author_cannot_propose_a_new_finding(author, study, live):
    with pytest.raises(StudyChangeRefused, match="Only a medical reviewer"):
        propose_change(study, {"finding": "It cured everyone."}, by=author)


def test_stale_proposal_is_refused(author, reviewer, study, live):
    first = propose_change(study, {"title": "First"}, by=author)
    second = propose_change(study, {"title": "Second"}, by=author)
    accept_change(first, by=reviewer)
    with pytest.raises(StudyChangeRefused, match="changed after this was proposed"):
        accept_change(second, by=reviewer)


def test_bad_proposal_is_refused_with_the_field_error(author, study, live, make_study):
    make_study("taken", doi="10.1/taken")
    with pytest.raises(ValidationError, match="already in the library"):
        propose_change(study, {"doi": "10.1/TAKEN"}, by=author)
    assert not StudyChange.objects.exists()


# Key ---------------------------------------------------------------------------------------


def test_key_of_a_cited_study_is_fixed(client, superuser_client, study, live):
    study.key = "renamed2009"
    with pytest.raises(ValidationError) as error:
        study.full_clean()
    assert error.value.error_dict["key"][0].code == "key_fixed"
    with pytest.raises(ValidationError):
        study.save()
    assert Study.objects.filter(key="cherkin2009").exists()
    html = superuser_client.get(reverse("admin:articles_study_change", args=[study.pk]))
    assert 'name="key"' not in html.content.decode()
    assert client.get("/evidence/cherkin2009/").status_code == 200


def test_key_of_a_study_only_drafts_cite_can_change(make_study, make_article):
    study = make_study("draftonly")
    make_article(body="Claim [@draftonly].", status="draft")
    study.key = "renamed"
    study.save()
    assert Study.objects.filter(key="renamed").exists()


@pytest.fixture
def superuser_client(client, make_user):
    client.force_login(make_user("boss", is_superuser=True))
    return client


# Retraction --------------------------------------------------------------------------------


def test_retraction_flags_and_shows_patients_a_notice_until_re_reviewed(
    client, make_user, author, reviewer, study, live, make_study
):
    client.force_login(reviewer)
    url = reverse("admin:articles_study_change", args=[study.pk])
    response = client.post(
        url,
        study_form(study, is_retracted="on", retraction_note="Data were fabricated."),
        follow=True,
    )
    assert "now due for review" in response.content.decode()
    flag = ReviewFlag.objects.get()
    assert flag.reason == "study_retracted" and flag.raised_by == reviewer
    client.logout()

    notice = retraction_notice(client, live)
    assert notice is not None
    assert "retracted" in notice and "Original reviewed title" in notice

    # Re-review: the author drops the retracted study and cites another.
    make_study("replacement2021")
    workflow.save_draft(
        refresh(live),
        title="Acupuncture and back pain",
        summary="What studies found.",
        body="Needling beat usual care [@replacement2021].",
        by=author,
    )
    workflow.submit_for_review(refresh(live), by=author)
    review_everything(refresh(live), reviewer)
    workflow.approve(refresh(live), by=reviewer)
    workflow.publish(refresh(live), by=reviewer)
    assert retraction_notice(client, live) is None
    assert not Article.objects.review_due_now().exists()


def test_flag_articles_citing_only_flags_live_articles(make_article, make_study, reviewer):
    study = make_study("shared", study_type=StudyType.SYSTEMATIC_REVIEW)
    live = make_article(body="A [@shared].", reviewer=reviewer)
    make_article(body="B [@shared].", status="in_review")
    flags = flag_articles_citing(study, reason="Retraction Watch lists this study.")
    assert [flag.article for flag in flags] == [live]
    assert flags[0].reason == "other" and "Retraction Watch" in flags[0].detail
    assert list(Article.objects.review_due_now()) == [live]


def test_live_page_renders_the_reference_as_reviewed_even_after_a_direct_edit(client, study, live):
    # Even a change that bypasses the admin (a shell, an import) cannot rewrite live pages.
    Study.objects.filter(pk=study.pk).update(title="Changed behind our back", doi="10.1/x")
    text = references(client, live)
    assert "Original reviewed title" in text and "10.1/original" in text


@pytest.mark.parametrize(
    ("articles", "answers", "message"),
    [
        (0, 0, "No live article or patient answer cites it."),
        (1, 0, "1 live article citing it is now due for review; whoever reviewed it is being"),
        (2, 1, "2 live articles and 1 patient answer citing it are now due for review; whoever"),
        (0, 3, "3 patient answers citing it are now due for review; whoever reviewed each"),
    ],
)
def test_staff_are_told_what_a_change_flagged(articles, answers, message):
    assert flagged_message(articles=articles, answers=answers).startswith(message)


def test_a_change_accepted_during_review_is_judged_again_and_is_what_patients_see(
    client, make_article, make_study, author, reviewer
):
    make_study("inreview2020", finding="Needling helped a lot for a year.")
    article = make_article(
        body="Needling helps [@inreview2020].", status="in_review", author=author
    )
    review_everything(refresh(article), reviewer)  # verdicts against the old finding
    study = Study.objects.get(key="inreview2020")
    accept_change(
        propose_change(study, {"finding": "No better than sham at 8 weeks."}, by=reviewer),
        by=reviewer,
    )
    # The verdict given against the old finding is gone: approval waits for a new one.
    problems = {p.code for p in workflow.APPROVE.check(refresh(article), reviewer)}
    assert "unsupported_citation" in problems
    review_everything(refresh(article), reviewer)
    workflow.approve(refresh(article), by=reviewer)
    workflow.publish(refresh(article), by=reviewer)
    page = client.get(article.get_absolute_url()).content.decode()
    assert "No better than sham at 8 weeks." in page
    assert "Needling helped a lot for a year." not in page


def test_a_study_described_during_review_stays_as_approved_after_later_changes(
    client, make_article, make_study, author, reviewer
):
    make_study("imported2021", study_type="", finding="")  # imported: not described yet
    article = make_article(
        body="Needling helps [@imported2021].", status="in_review", author=author
    )
    study = Study.objects.get(key="imported2021")
    accept_change(
        propose_change(
            study, {"study_type": StudyType.RCT, "finding": "Helped a little."}, by=reviewer
        ),
        by=reviewer,
    )
    review_everything(refresh(article), reviewer)
    workflow.approve(refresh(article), by=reviewer)
    workflow.publish(refresh(article), by=reviewer)
    accept_change(
        propose_change(
            Study.objects.get(key="imported2021"), {"finding": "Rewritten later."}, by=reviewer
        ),
        by=reviewer,
    )
    page = client.get(article.get_absolute_url()).content.decode()
    assert "Helped a little." in page and "Rewritten later." not in page


def test_a_change_leaves_the_verdicts_of_revisions_no_longer_in_review_as_they_were(
    make_article, make_study, author, reviewer
):
    make_study("history2018", finding="Helped some people.")
    article = make_article(body="Needling helps [@history2018].", status="in_review", author=author)
    review_everything(refresh(article), reviewer)
    workflow.request_changes(refresh(article), by=reviewer, comment="Soften the claim.")
    sent_back = refresh(article).draft
    before = list(
        Citation.objects.filter(claim__revision=sent_back).values_list(
            "verdict", "finding_as_reviewed"
        )
    )
    assert before == [("supports", "Helped some people.")]
    accept_change(
        propose_change(
            Study.objects.get(key="history2018"), {"finding": "Helped few people."}, by=reviewer
        ),
        by=reviewer,
    )
    after = list(
        Citation.objects.filter(claim__revision=sent_back).values_list(
            "verdict", "finding_as_reviewed"
        )
    )
    assert after == before
