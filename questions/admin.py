"""The staff queue of patients' questions and the public answers' workflow in the admin."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Prefetch, Q, Value, When
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from articles.admin import QueryChoicesFilter
from articles.body import parse
from articles.forms import CitationReviewFormSet, ClaimReviewFormSet, citation_errors
from articles.models import Article, Citation, ReviewFlag
from screening.admin import is_clinical_staff

from . import answering
from .models import IS_CURRENT, PatientQuestion, PublicAnswer, QuestionStatus
from .tasks import queue_private_reply

# Personal data: shown and searchable only for Clinical staff (and superusers).
PERSONAL_FIELDS = ("name", "email", "private_reply", "reply_queued_at", "reply_sent_at")


class PatientQuestionForm(forms.ModelForm):
    class Meta:
        model = PatientQuestion
        fields = ["status", "public_text", "private_reply"]

    def clean_private_reply(self):
        reply = self.cleaned_data.get("private_reply", "").strip()
        if reply and reply != self.instance.private_reply and self.instance.reply_queued_at:
            raise ValidationError(
                _("A private reply was already sent; it cannot be changed."), code="reply_sent"
            )
        if reply and not self.instance.email:
            raise ValidationError(
                _("The patient gave no email address, so a private reply cannot be sent."),
                code="no_email",
            )
        return reply

    def clean_status(self):
        status = self.cleaned_data["status"]
        if status == QuestionStatus.PUBLISHED and self.instance.status != QuestionStatus.PUBLISHED:
            raise ValidationError(
                _("A question is published by publishing an approved answer to it."),
                code="publish_by_answer",
            )
        if status != QuestionStatus.PUBLISHED and self.instance.status == QuestionStatus.PUBLISHED:
            raise ValidationError(
                _("Withdraw the published answer first (Public answers → Withdraw)."),
                code="withdraw_first",
            )
        return status


@admin.register(PatientQuestion)
class PatientQuestionAdmin(admin.ModelAdmin):
    form = PatientQuestionForm
    list_display = ["__str__", "excerpt", "article_title", "emergency", "status", "asked_at"]
    list_filter = ["status", "is_emergency", "consent_to_publish", "article"]
    search_fields = ["text", "public_text"]
    date_hierarchy = "asked_at"
    list_select_related = ["article__live_revision", "article__draft"]
    change_list_template = "admin/questions/patientquestion/change_list.html"

    @admin.display(description=_("article"), ordering="article__slug")
    def article_title(self, obj):
        return obj.article.title

    @admin.display(description=_("emergency"), boolean=True, ordering="is_emergency")
    def emergency(self, obj):
        return obj.is_emergency

    @admin.display(description=_("words that raised the flag"))
    def emergency_words(self, obj):
        return ", ".join(obj.emergency_terms) or "—"

    @admin.display(description=_("public answers"))
    def answer_links(self, obj):
        if obj.pk is None:
            return "—"
        links = [
            format_html(
                '<a href="{}">#{} ({})</a>',
                reverse("admin:questions_publicanswer_change", args=[answer.pk]),
                answer.pk,
                answer.state(),
            )
            for answer in obj.answers.order_by("created_at")
        ]
        add = ""
        if obj.consent_to_publish:
            add = format_html(
                '<a href="{}?question={}">Write a public answer</a>',
                reverse("admin:questions_publicanswer_add"),
                obj.pk,
            )
        return format_html_join(", ", "{}", ((link,) for link in links)) + format_html(" {}", add)

    def get_fields(self, request, obj=None):
        fields = [
            "article",
            "text",
            "asked_at",
            "is_emergency",
            "emergency_words",
            "consent_to_publish",
            "status",
            "public_text",
            "redacted_by",
            "redacted_at",
            "answer_links",
        ]
        if is_clinical_staff(request.user):
            fields += list(PERSONAL_FIELDS)
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = [
            "article",
            "text",
            "asked_at",
            "is_emergency",
            "emergency_words",
            "consent_to_publish",
            "redacted_by",
            "redacted_at",
            "answer_links",
            "name",
            "email",
            "reply_queued_at",
            "reply_sent_at",
        ]
        if not request.user.has_perm("questions.reply_patientquestion") or (
            obj is not None and obj.reply_queued_at
        ):
            readonly.append("private_reply")
        if obj is not None and not obj.consent_to_publish:
            readonly.append("public_text")
        return readonly

    def get_search_fields(self, request):
        fields = list(super().get_search_fields(request))
        return [*fields, "name", "email"] if is_clinical_staff(request.user) else fields

    def lookup_allowed(self, lookup, value, request):
        # The admin takes a filter on any field from the address (`?email=...`): without this,
        # staff who may not see personal details could still find whose question is whose.
        if lookup.split("__")[0] in PERSONAL_FIELDS and not is_clinical_staff(request.user):
            return False
        return super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request):
        return False  # questions come from patients only

    def has_delete_permission(self, request, obj=None):
        return False  # the retention command deletes them

    def save_model(self, request, obj, form, change):
        if "public_text" in form.changed_data:
            obj.redacted_by, obj.redacted_at = request.user, timezone.now()
        reply = form.cleaned_data.get("private_reply", "")
        queue_reply = "private_reply" in form.changed_data and reply and not obj.reply_queued_at
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if queue_reply:
                queue_private_reply(obj, reply=reply, by=request.user)
                self.message_user(request, _("The private reply is queued for sending."))

    def changelist_view(self, request, extra_context=None):
        """The queue, with the articles that draw the most questions above it."""
        most_asked = (
            Article.objects.annotate(asked=Count("questions"))
            .filter(asked__gt=0)
            .select_related("live_revision", "draft")
            .order_by("-asked", "slug")[:10]
        )
        extra_context = {**(extra_context or {}), "most_asked": most_asked}
        return super().changelist_view(request, extra_context)


class PublicAnswerForm(forms.ModelForm):
    class Meta:
        model = PublicAnswer
        fields = ["question", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14, "class": "vLargeTextField"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "question" in self.fields:
            # Only questions the patient agreed to publish can have a public answer.
            self.fields["question"].queryset = PatientQuestion.objects.filter(
                consent_to_publish=True
            ).exclude(status=QuestionStatus.DECLINED)

    def clean_body(self):
        body = self.cleaned_data["body"].replace("\r\n", "\n").replace("\x00", "")
        errors = citation_errors(parse(body))
        if errors:
            raise ValidationError(errors)
        return body


def _run_step(modeladmin, request, queryset, step, done):
    ok = 0
    for answer in queryset:
        try:
            step.run(answer, by=request.user)
        except answering.AnswerRefused as refusal:
            modeladmin.message_user(
                request, f"{answer}: {' '.join(str(p) for p in refusal.problems)}", messages.ERROR
            )
        else:
            ok += 1
    if ok:
        modeladmin.message_user(request, f"{done}: {ok} answer(s).", messages.SUCCESS)


class AnswerReviewDueFilter(QueryChoicesFilter):
    """Live answers that a changed or retracted study has made due for review."""

    title, parameter_name = _("review due now"), "review"
    options = {"due": (_("Yes"), Q(review_due=True))}


@admin.register(PublicAnswer)
class PublicAnswerAdmin(admin.ModelAdmin):
    form = PublicAnswerForm
    list_display = [
        "__str__",
        "article_title",
        "state_label",
        "created_by",
        "approved_by",
        "review_due_now",
    ]
    list_select_related = ["question__article__live_revision", "created_by", "approved_by"]
    list_filter = [AnswerReviewDueFilter, "published_at", "retired_at"]
    readonly_fields = ["review_link", "state_label", "question_text", "content_hash"]
    actions = ["submit", "approve", "publish", "withdraw"]

    def get_queryset(self, request):
        # A live answer is due while a flag on its question is open (a flag stays with the
        # answer it was raised on; an answer approved before it and published since is live).
        open_flags = ReviewFlag.objects.with_open().filter(
            answer__question=OuterRef("question"), still_open=True
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                review_due=Case(
                    When(IS_CURRENT, then=Exists(open_flags)),
                    default=Value(False),
                    output_field=BooleanField(),
                )
            )
        )

    @admin.display(description=_("review due now"), boolean=True, ordering="review_due")
    def review_due_now(self, obj):
        return obj.review_due

    @admin.display(description=_("article"))
    def article_title(self, obj):
        return obj.question.article.title

    @admin.display(description=_("state"))
    def state_label(self, obj):
        return obj.state() if obj.pk else "—"

    @admin.display(description=_("review"))
    def review_link(self, obj):
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">Claims, verdicts and certainty</a>',
            reverse("admin:questions_publicanswer_review", args=[obj.pk]),
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("question")
            if obj.is_frozen():
                readonly.append("body")
        return readonly

    def get_changeform_initial_data(self, request):
        return {"question": request.GET.get("question")}

    def has_delete_permission(self, request, obj=None):
        return False  # answers are the audit record

    def has_change_permission(self, request, obj=None):
        # A submitted answer is frozen (a new draft is written instead): its page is for
        # reading, with the link to its review. Saving it had nothing to save (a 500).
        if obj is not None and obj.is_frozen():
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        saved = answering.save_answer(
            form.cleaned_data.get("question") or obj.question,
            body=form.cleaned_data["body"],
            by=request.user,
            answer=obj if obj.pk else None,
        )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def has_submit_permission(self, request):
        return request.user.has_perm(answering.SUBMIT.permission)

    def has_approve_permission(self, request):
        return request.user.has_perm(answering.APPROVE.permission)

    def has_publish_permission(self, request):
        return request.user.has_perm(answering.PUBLISH.permission)

    @admin.action(description=_("Submit the selected answers for review"), permissions=["submit"])
    def submit(self, request, queryset):
        _run_step(self, request, queryset, answering.SUBMIT, "Submitted for review")

    @admin.action(description=_("Approve the selected answers"), permissions=["approve"])
    def approve(self, request, queryset):
        _run_step(self, request, queryset, answering.APPROVE, "Approved")

    @admin.action(description=_("Publish the selected answers"), permissions=["publish"])
    def publish(self, request, queryset):
        _run_step(self, request, queryset, answering.PUBLISH, "Published")

    @admin.action(description=_("Withdraw the selected answers"), permissions=["publish"])
    def withdraw(self, request, queryset):
        _run_step(self, request, queryset, answering.WITHDRAW, "Withdrawn")

    def get_urls(self):
        return [
            path(
                "<int:object_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="questions_publicanswer_review",
            ),
            *super().get_urls(),
        ]

    def review_view(self, request, object_id):
        """Verdicts per citation and certainty per claim, with the same formsets as articles."""
        answer = get_object_or_404(PublicAnswer.objects.select_related("question"), pk=object_id)
        if not self.has_view_permission(request, answer):
            raise PermissionDenied
        can_review = request.user.has_perm(
            answering.RECORD_VERDICT.permission
        ) and not answering.RECORD_VERDICT.state_problems(answer)
        data = request.POST if request.method == "POST" and can_review else None
        citations = CitationReviewFormSet(
            data,
            prefix="citation",
            queryset=Citation.objects.filter(claim__answer=answer)
            .select_related("claim", "study")
            .order_by("claim__ordinal", "position"),
        )
        claims = ClaimReviewFormSet(
            data,
            prefix="claim",
            queryset=answer.claims.order_by("ordinal").prefetch_related("citations__study"),
        )
        errors = []
        if data is not None:
            if citations.is_valid() and claims.is_valid():
                errors = self._save_review(request, answer, citations, claims)
                if not errors:
                    if "approve" in request.POST:
                        _run_step(self, request, [answer], answering.APPROVE, "Approved")
                    else:
                        self.message_user(request, "Review saved.", messages.SUCCESS)
                    return HttpResponseRedirect(
                        reverse("admin:questions_publicanswer_review", args=[answer.pk])
                    )
            errors = errors or ["Please correct the errors below."]
        display = list(
            answer.claims.order_by("ordinal").prefetch_related(
                Prefetch(
                    "citations", queryset=Citation.objects.select_related("study", "verdict_by")
                )
            )
        )
        by_citation = {form.instance.pk: form for form in citations}
        by_claim = {form.instance.pk: form for form in claims}
        for claim in display:
            claim.review_form = by_claim.get(claim.pk)
            for citation in claim.citations.all():
                citation.review_form = by_citation.get(citation.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Review {answer}",
            "answer": answer,
            "claims": display,
            "citations_formset": citations,
            "claims_formset": claims,
            "can_review": can_review,
            "checklist": answering.gate_problems(answer, request.user, timezone.localdate())
            if answer.submitted_at and not answer.approved_at
            else None,
            "review_errors": errors,
        }
        return TemplateResponse(
            request,
            "admin/questions/publicanswer/review.html",
            context,
            status=400 if errors else 200,
        )

    def _save_review(self, request, answer, citations, claims):
        """Record each changed verdict and certainty through the answer's steps; all or nothing."""
        errors = []
        with transaction.atomic():
            for form in citations:
                if form.has_review_change():
                    try:
                        answering.record_verdict(
                            form.instance,
                            verdict=form.cleaned_data["verdict"],
                            note=form.cleaned_data["verdict_note"],
                            by=request.user,
                        )
                    except answering.AnswerRefused as refusal:
                        errors += [f"{form.subject}: {p}" for p in refusal.problems]
            for form in claims:
                if form.has_review_change():
                    try:
                        answering.set_certainty(
                            form.instance,
                            certainty=form.cleaned_data["certainty"],
                            wording=form.cleaned_data["certainty_wording"],
                            kind=form.cleaned_data.get("kind", ""),
                            by=request.user,
                        )
                    except answering.AnswerRefused as refusal:
                        errors += [f"{form.subject}: {p}" for p in refusal.problems]
            if errors:
                transaction.set_rollback(True)
        return errors
