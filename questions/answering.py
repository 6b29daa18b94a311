"""Public answers go through the article gate: claims, verdicts, certainty, linter, approval.

An answer's claims are `articles.Claim` rows with `answer` set, and its citations are
`articles.Citation` rows, so the rules are the article workflow's own functions, imported, not
rewritten: `articles.body.parse` for markers, `articles.lint.uncited_claims` for claim-like
sentences, and from `articles.workflow` the body and evidence checks (no uncited claim, no
citation without a "supports" verdict, no retracted study), the verdict and certainty value
checks, the honest-wording check and the reviewer's credentials. What differs is the frame: an
answer is its own small record (draft → in review → approved → published → withdrawn) under a
question, not an article revision, so a step here locks the answer's row, not the article's.

Answers have no "not a claim" dismissal: they are short, so a sentence the linter flags is
cited or reworded. The redacted question is copied onto the answer when it is submitted and is
part of the hash the reviewer approves, so a later change to the redaction needs a new review.
"""

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from articles.body import parse
from articles.lint import uncited_claims
from articles.models import Citation, Claim, Study, claim_text_hash
from articles.workflow import (
    Problem,
    body_problems,
    certainty_value_problems,
    credential_problems,
    evidence_problems,
    log_step,
    verdict_value_problems,
    wording_fit_problems,
)

from .models import PatientQuestion, PublicAnswer, QuestionStatus
from .signals import answer_live_changed


class AnswerRefused(Exception):
    """A rule stops this step on the answer; `problems` says which, each with a code."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        self.codes = {problem.code for problem in self.problems}
        super().__init__(" ".join(problem.message for problem in self.problems))


@dataclass(frozen=True)
class AnswerStep:
    """One step on a public answer: a permission, the states it applies in, its rules."""

    name: str
    permission: str
    doing: str

    def check(self, answer: PublicAnswer, user, **options) -> list[Problem]:
        if not user.has_perm(self.permission):
            return [Problem("permission", f"You do not have permission to {self.doing}.")]
        return self.state_problems(answer) or self.rule_problems(answer, user, **options)

    def state_problems(self, answer):
        return []

    def rule_problems(self, answer, user, **options):
        return []

    def execute(self, answer, *, by, now, **options) -> str:
        raise NotImplementedError

    def run(self, answer: PublicAnswer, *, by, now=None, **options) -> PublicAnswer:
        """Lock the answer (and its question), check, execute, log: all or nothing."""
        now = now or timezone.now()
        with transaction.atomic():
            PatientQuestion.objects.select_for_update().get(pk=answer.question_id)
            locked = (
                PublicAnswer.objects.select_for_update()
                .select_related("question")
                .get(pk=answer.pk)
            )
            problems = self.check(locked, by, **options)
            if problems:
                raise AnswerRefused(problems)
            message = self.execute(locked, by=by, now=now, **options)
            if message:
                log_step(locked.question, by, message, now)
        return locked


def _in_review(doing):
    def state_problems(answer):
        if not answer.submitted_at or answer.approved_at:
            return [Problem("state", f"The answer is not in review, so you cannot {doing}.")]
        return []

    return state_problems


class SubmitAnswer(AnswerStep):
    def state_problems(self, answer):
        if answer.is_frozen():
            return [Problem("state", "This answer was already submitted.")]
        return []

    def rule_problems(self, answer, user, **options):
        problems = body_problems(answer)
        question = answer.question
        if not question.consent_to_publish:
            problems.append(
                Problem("no_consent", "The patient did not agree to publish this question.")
            )
        if not question.public_text.strip():
            problems.append(
                Problem(
                    "not_redacted",
                    "Write the question as it will be published (personal details removed) "
                    "before submitting the answer.",
                )
            )
        return problems

    def execute(self, answer, *, by, now):
        answer.question_text = answer.question.public_text.strip()
        answer.submitted_by, answer.submitted_at = by, now
        answer.content_hash = answer.compute_content_hash()
        answer.save(update_fields=["question_text", "submitted_by", "submitted_at", "content_hash"])
        # Studies stay as reviewed, as for article revisions.
        Citation.objects.filter(claim__answer=answer).record_studies_as_reviewed()
        return f"Submitted answer #{answer.pk} for review."


class RecordAnswerVerdict(AnswerStep):
    def state_problems(self, answer):
        return _in_review("record verdicts")(answer)

    def rule_problems(self, answer, user, *, citation, verdict, note=""):
        if citation.claim.answer_id != answer.pk:
            return [Problem("not_in_revision", "That citation is not in the answer under review.")]
        return verdict_value_problems(verdict, note)

    def execute(self, answer, *, by, now, citation, verdict, note=""):
        citation.verdict, citation.verdict_note = verdict, note.strip()
        citation.verdict_by, citation.verdict_at = by, now
        citation.save(update_fields=["verdict", "verdict_note", "verdict_by", "verdict_at"])
        return ""


class SetAnswerCertainty(AnswerStep):
    def state_problems(self, answer):
        return _in_review("rate certainty")(answer)

    def rule_problems(self, answer, user, *, claim, certainty, wording="", kind=None):
        if claim.answer_id != answer.pk:
            return [Problem("not_in_revision", "That claim is not in the answer under review.")]
        return certainty_value_problems(claim, certainty, wording) or wording_fit_problems(
            claim, certainty, wording, kind
        )

    def execute(self, answer, *, by, now, claim, certainty, wording="", kind=None):
        claim.certainty, claim.certainty_wording = certainty, wording.strip()
        if kind is not None:
            claim.kind = kind
        claim.save(update_fields=["kind", "certainty", "certainty_wording"])
        return ""


def gate_problems(answer: PublicAnswer, by, today=None) -> list[Problem]:
    """The article gate, applied to an answer: body, evidence, certainty, linter, reviewer."""
    problems = body_problems(answer) + evidence_problems(answer)
    unrated = list(
        answer.claims.filter(certainty="").order_by("ordinal").values_list("ordinal", flat=True)
    )
    if unrated:
        problems.append(
            Problem(
                "unrated_claim",
                f"Claim(s) {', '.join(map(str, unrated))} have no certainty rating.",
            )
        )
    findings = uncited_claims(answer.body)
    if findings:
        problems.append(
            Problem(
                "open_lint_warning",
                f"{len(findings)} sentence(s) read like health claims but cite nothing, "
                f"e.g. “{findings[0].sentence}”: cite a study or reword it.",
            )
        )
    if by.pk in (answer.created_by_id, answer.submitted_by_id):
        problems.append(Problem("own_article", "A reviewer cannot approve an answer they wrote."))
    problems += credential_problems(by, today)
    if answer.content_hash != answer.compute_content_hash():
        problems.append(
            Problem("hash_mismatch", "The answer's content does not match its recorded hash.")
        )
    return problems


class ApproveAnswer(AnswerStep):
    def state_problems(self, answer):
        return _in_review("approve it")(answer)

    def rule_problems(self, answer, user, **options):
        return gate_problems(answer, user, timezone.localdate())

    def execute(self, answer, *, by, now):
        answer.approved_by, answer.approved_at = by, now
        answer.approved_hash = answer.content_hash
        answer.save(update_fields=["approved_by", "approved_at", "approved_hash"])
        return f"Approved answer #{answer.pk} ({answer.content_hash[:12]})."


class PublishAnswer(AnswerStep):
    def state_problems(self, answer):
        if not answer.approved_at or answer.published_at:
            return [Problem("state", "Only an approved, unpublished answer can be published.")]
        return []

    def rule_problems(self, answer, user, **options):
        problems = []
        question = answer.question
        if answer.approved_hash != answer.compute_content_hash():
            problems.append(Problem("hash_mismatch", "The answer differs from what was approved."))
        if question.public_text.strip() != answer.question_text:
            problems.append(
                Problem(
                    "redaction_changed",
                    "The published wording of the question changed after review: submit a "
                    "new answer so a reviewer sees it.",
                )
            )
        if not question.consent_to_publish:
            problems.append(Problem("no_consent", "The patient did not agree to publish."))
        if not question.article.is_published():
            problems.append(Problem("article_not_live", "The article is not published."))
        retracted = sorted(
            Study.objects.filter(citations__claim__answer=answer, is_retracted=True)
            .values_list("key", flat=True)
            .distinct()
        )
        if retracted:
            problems.append(
                Problem("retracted_study", f"It cites retracted studies: {', '.join(retracted)}.")
            )
        return problems

    def execute(self, answer, *, by, now):
        # One live answer per question: the one it replaces is withdrawn now.
        replacing = PublicAnswer.objects.current().filter(question=answer.question)
        replaced_answers = list(replacing)
        replacing.update(retired_at=now)
        for replaced in replaced_answers:
            replaced.retired_at = now  # as stored: the search index reads it
        answer.published_by, answer.published_at = by, now
        answer.save(update_fields=["published_by", "published_at"])
        question = answer.question
        question.status = QuestionStatus.PUBLISHED
        question.save(update_fields=["status"])
        for replaced in replaced_answers:
            answer_live_changed.send(sender=PublicAnswer, answer=replaced)
        answer_live_changed.send(sender=PublicAnswer, answer=answer)
        return f"Published answer #{answer.pk}."


class WithdrawAnswer(AnswerStep):
    def state_problems(self, answer):
        if not answer.is_live():
            return [Problem("state", "The answer is not published.")]
        return []

    def execute(self, answer, *, by, now):
        answer.retired_at = now
        answer.save(update_fields=["retired_at"])
        question = answer.question
        question.status = QuestionStatus.NEW
        question.save(update_fields=["status"])
        answer_live_changed.send(sender=PublicAnswer, answer=answer)
        return f"Withdrew answer #{answer.pk} from the article page."


SUBMIT = SubmitAnswer("submit_answer", "articles.submit_article", "submit answers for review")
RECORD_VERDICT = RecordAnswerVerdict("record_verdict", "articles.review_article", "record verdicts")
SET_CERTAINTY = SetAnswerCertainty("set_certainty", "articles.review_article", "rate certainty")
APPROVE = ApproveAnswer("approve_answer", "articles.approve_article", "approve answers")
PUBLISH = PublishAnswer("publish_answer", "articles.publish_article", "publish answers")
WITHDRAW = WithdrawAnswer("withdraw_answer", "articles.publish_article", "withdraw answers")


# Writing ------------------------------------------------------------------------------------


def _anchored(html: str, answer: PublicAnswer) -> str:
    """Point the answer's citation links at its own reference list, not the article's."""
    return re.sub(r'href="#ref-(\d+)"', rf'href="#answer-{answer.pk}-ref-\1"', html)


def save_answer(question: PatientQuestion, *, body: str, by, answer: PublicAnswer | None = None):
    """Store the text of a draft answer (a new one when `answer` is None) and its claims.

    Raises AnswerRefused when the user may not write answers, the answer is already submitted,
    or the body has marker errors or unknown keys (nothing is stored then).
    """
    if not by.has_perm("questions.add_publicanswer"):
        raise AnswerRefused([Problem("permission", "You do not have permission to write answers.")])
    if answer is not None and answer.is_frozen():
        raise AnswerRefused([Problem("state", "A submitted answer cannot change.")])
    body = body.replace("\r\n", "\n").replace("\x00", "")
    parsed = parse(body)
    problems = [Problem(error.code, error.message) for error in parsed.errors]
    studies = Study.objects.in_bulk(list(parsed.keys), field_name="key")
    problems += [
        Problem("unknown_key", f"Unknown citation key “{key}”: no study in the library has it.")
        for key in sorted(parsed.keys - studies.keys())
    ]
    if not body.strip():
        problems.append(Problem("empty", "Write the answer."))
    if problems:
        raise AnswerRefused(problems)
    with transaction.atomic():
        if answer is None:
            answer = PublicAnswer(question=question, created_by=by)
        answer.body = body
        answer.save()
        answer.rendered_html = _anchored(parsed.html, answer)
        answer.content_hash = answer.compute_content_hash()
        answer.save(update_fields=["rendered_html", "content_hash"])
        answer.claims.all().delete()
        claims = Claim.objects.bulk_create(
            Claim(answer=answer, ordinal=n, text=c.text, text_hash=claim_text_hash(c.text))
            for n, c in enumerate(parsed.claims, start=1)
        )
        Citation.objects.bulk_create(
            Citation(claim=claim, study=studies[cite.key], position=position, locator=cite.locator)
            for claim, parsed_claim in zip(claims, parsed.claims, strict=True)
            for position, cite in enumerate(parsed_claim.cites)
        )
    return answer


# One function per step -------------------------------------------------------------------


def submit_answer(answer, *, by, now=None) -> PublicAnswer:
    return SUBMIT.run(answer, by=by, now=now)


def record_verdict(citation, *, verdict, note="", by, now=None) -> Citation:
    citation = Citation.objects.select_related("claim__answer").get(pk=citation.pk)
    RECORD_VERDICT.run(
        citation.claim.answer, by=by, now=now, citation=citation, verdict=verdict, note=note
    )
    return citation


def set_certainty(claim, *, certainty, wording="", kind=None, by, now=None) -> Claim:
    claim = Claim.objects.select_related("answer").get(pk=claim.pk)
    SET_CERTAINTY.run(
        claim.answer, by=by, now=now, claim=claim, certainty=certainty, wording=wording, kind=kind
    )
    return claim


def approve_answer(answer, *, by, now=None) -> PublicAnswer:
    return APPROVE.run(answer, by=by, now=now)


def publish_answer(answer, *, by, now=None) -> PublicAnswer:
    return PUBLISH.run(answer, by=by, now=now)


def withdraw_answer(answer, *, by, now=None) -> PublicAnswer:
    return WITHDRAW.run(answer, by=by, now=now)
