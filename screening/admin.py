"""Staff review of intake submissions, and editing of questionnaire drafts.

Submissions are health data: only the Clinical staff group and superusers may see them, checked
on the server in every ModelAdmin permission hook and in the extra views, whatever permissions
a user has been granted one by one.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.filters import DateFieldListFilter
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from clinic.auth_backends import in_group
from clinic.models import ClinicDetails

from . import exports, fhir
from .models import (
    CLINICAL_STAFF_GROUP,
    AccessKind,
    FlagRule,
    IntakeSubmission,
    Outcome,
    Question,
    Questionnaire,
    QuestionnaireStatus,
    SubmissionAccess,
    SubmissionNote,
    clinical_ordering,
    current_outcome_expression,
)


def is_clinical_staff(user) -> bool:
    """Superusers, and active staff in the Clinical staff group (read with the user's
    permissions, see `clinic.auth_backends`)."""
    if not (user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    return in_group(user, CLINICAL_STAFF_GROUP)


def record_access(request, submissions, kind) -> None:
    SubmissionAccess.objects.bulk_create(
        SubmissionAccess(submission=submission, user=request.user, kind=kind)
        for submission in submissions
    )


def record_list_access(request) -> None:
    """Log a list or search page: who, when, and the search words and filters used."""
    query = "&".join(f"{key}={value}" for key, values in request.GET.lists() for value in values)
    SubmissionAccess.objects.create(
        user=request.user,
        kind=AccessKind.SEARCHED if request.GET.get("q") else AccessKind.LISTED,
        query=query[: SubmissionAccess._meta.get_field("query").max_length],
    )


class ClinicalOnly:
    """Every permission hook first requires clinical staff, then Django's own permission."""

    def has_module_permission(self, request):
        return is_clinical_staff(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_clinical_staff(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return is_clinical_staff(request.user) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, *args):
        return False

    def has_delete_permission(self, request, obj=None):
        # Submissions leave only through the retention command (purge_submissions).
        return False


class SubmissionNoteInline(ClinicalOnly, admin.TabularInline):
    model = SubmissionNote
    extra = 1
    fields = ["text", "written_by", "created_at"]
    readonly_fields = ["written_by", "created_at"]
    verbose_name = _("staff note")
    verbose_name_plural = _("staff notes (added, never edited)")
    template = "admin/screening/intakesubmission/notes_inline.html"

    @admin.display(description=_("by"))
    def written_by(self, obj):
        if obj.pk is None:
            return ""
        if obj.author is None:
            return _("automatic")
        return obj.author.get_username()

    def has_add_permission(self, request, obj=None):
        return is_clinical_staff(request.user) and request.user.has_perm(
            "screening.add_submissionnote"
        )

    def has_change_permission(self, request, obj=None):
        return False


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assigned to")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("Me")), ("nobody", _("Nobody"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "nobody":
            return queryset.filter(assignee__isnull=True)
        return queryset


class WaitingFilter(admin.SimpleListFilter):
    title = _("waiting")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("over", _("Longer than the target")), ("all", _("Not handled yet"))]

    def queryset(self, request, queryset):
        if self.value() == "over":
            return queryset.overdue()
        if self.value() == "all":
            return queryset.waiting()
        return queryset


class OutcomeFilter(admin.SimpleListFilter):
    """The outcome the patient was last advised: a form resent with more urgent answers is
    listed with the more urgent ones, as the queue orders it."""

    title = _("outcome")
    parameter_name = "outcome__exact"  # the address Django's own filter used

    def lookups(self, request, model_admin):
        return Outcome.choices

    def queryset(self, request, queryset):
        if self.value() in Outcome.values:
            return queryset.with_current_outcome(self.value())
        return queryset


class NotifiedFilter(admin.SimpleListFilter):
    title = _("staff email")
    parameter_name = "notified"

    def lookups(self, request, model_admin):
        return [("yes", _("Sent")), ("no", _("Not sent yet"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(notified_at__isnull=self.value() == "no")
        return queryset


class QueuePaginator(Paginator):
    """Pages of a long list found by primary key first: the database sorts narrow rows (from
    the `intakesubmission_queue` index) and reads in full only the page's rows, instead of
    carrying every form's answers through the sort (SQLite: about 500 ms at 100,000 rows).
    Still one query: the page's keys are a subquery."""

    def page(self, number):
        if self.object_list.query.distinct:
            # PostgreSQL orders DISTINCT rows only by selected columns; none here use it.
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = self.object_list.values("pk")[bottom:top]
        return self._get_page(self.object_list.filter(pk__in=keys), number, self)


@admin.register(IntakeSubmission)
class IntakeSubmissionAdmin(ClinicalOnly, admin.ModelAdmin):
    list_display = [
        "reference",
        "submitted_at",
        "outcome_badge",
        "status",
        "assignee",
        "waiting",
        "full_name",
    ]
    list_display_links = ["reference", "submitted_at"]
    list_filter = [
        AssigneeFilter,
        WaitingFilter,
        OutcomeFilter,
        "status",
        ("submitted_at", DateFieldListFilter),
        "assignee",
        NotifiedFilter,
    ]
    list_select_related = ["assignee"]
    search_fields = ["full_name", "email", "phone"]
    show_full_result_count = False
    list_per_page = 50
    paginator = QueuePaginator
    inlines = [SubmissionNoteInline]
    actions = ["export_csv", "export_fhir"]
    fieldsets = [
        (_("Triage"), {"fields": ["outcome_badge", "flags_raised", "later_attempt"]}),
        (_("Staff"), {"fields": ["status", "assignee"]}),
        (
            _("Contact details"),
            {"fields": ["full_name", "email", "phone", "preferred_contact"]},
        ),
        (_("Answers, with each question as it was asked"), {"fields": ["answers_table"]}),
        (
            _("Record"),
            {
                "fields": [
                    "reference",
                    "submitted_at",
                    "questionnaire",
                    "consent_text",
                    "consented_at",
                    "notified_at",
                    "downloads",
                    "access_log",
                ]
            },
        ),
    ]
    editable_fields = {"status", "assignee"}

    class Media:
        css = {"all": ["css/admin-screening.css"]}

    def get_ordering(self, request):
        # The queue in clinical order; a form resent with more urgent answers counts as urgent,
        # as the patient was told so.
        return clinical_ordering()

    def get_readonly_fields(self, request, obj=None):
        names = [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]
        return [name for name in names if name not in self.editable_fields]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assignee":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_active=True, is_staff=True)
                .filter(Q(is_superuser=True) | Q(groups__name=CLINICAL_STAFF_GROUP))
                .distinct()
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_export_permission(self, request):
        return is_clinical_staff(request.user) and request.user.has_perm(
            "screening.export_submission"
        )

    def save_formset(self, request, form, formset, change):
        for note in formset.save(commit=False):
            if note.pk is None:
                note.author = request.user
                note.save()

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        # Only reached once the permission checks have passed; a 200 GET shows patients' names.
        if request.method == "GET" and response.status_code == 200:
            record_list_access(request)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            # Only reached once the permission checks in change_view have passed.
            submission = self.get_object(request, object_id)
            if submission is not None:
                record_access(request, [submission], AccessKind.VIEWED)
        return response

    def get_urls(self):
        return [
            path(
                "<path:object_id>/fhir/",
                self.admin_site.admin_view(self.fhir_view),
                name="screening_intakesubmission_fhir",
            ),
            *super().get_urls(),
        ]

    def fhir_view(self, request, object_id):
        if not self.has_export_permission(request):
            raise PermissionDenied
        # get_object() answers None for a malformed id ("abc") as for a missing one.
        submission = self.get_object(request, object_id)
        if submission is None:
            raise Http404("No such submission")
        record_access(request, [submission], AccessKind.EXPORTED_FHIR)
        return exports.fhir_response(
            fhir.response_resource(submission), f"intake-{submission.pk}-questionnaire-response"
        )

    @admin.action(description=_("Export selected as CSV"), permissions=["export"])
    def export_csv(self, request, queryset):
        submissions = list(
            queryset.select_related("questionnaire", "assignee")
            .prefetch_related("notes__author")
            .order_by("pk")
        )
        record_access(request, submissions, AccessKind.EXPORTED_CSV)
        return exports.csv_response(submissions)

    @admin.action(
        description=_("Export selected as FHIR QuestionnaireResponse"), permissions=["export"]
    )
    def export_fhir(self, request, queryset):
        submissions = list(
            queryset.select_related("questionnaire")
            .prefetch_related("notes__author")
            .order_by("pk")
        )
        record_access(request, submissions, AccessKind.EXPORTED_FHIR)
        resources = [fhir.response_resource(submission) for submission in submissions]
        return exports.fhir_response(fhir.bundle(resources), "intake-questionnaire-responses")

    @admin.display(description=_("ref"), ordering="pk")
    def reference(self, obj):
        return f"#{obj.pk}"

    # Sorted as the queue is: urgent first, a more urgent resend counting.
    @admin.display(description=_("outcome"), ordering=current_outcome_expression())
    def outcome_badge(self, obj):
        return render_to_string(
            "admin/screening/intakesubmission/_outcome_badge.html",
            {"submission": obj, "escalated": obj.current_outcome() != obj.outcome},
        )

    @admin.display(description=_("waiting"), ordering="-submitted_at")
    def waiting(self, obj):
        return render_to_string(
            "admin/screening/intakesubmission/_waiting.html",
            {
                "submission": obj,
                "overdue": obj.is_overdue(),
                "target_hours": settings.INTAKE_TARGET_HOURS[obj.current_outcome()],
            },
        )

    @admin.display(description=_("flags raised"))
    def flags_raised(self, obj):
        return render_to_string(
            "admin/screening/intakesubmission/_flags.html",
            {"flags": labelled_flags(obj, obj.flags), "empty": _("None")},
        )

    @admin.display(description=_("later attempt"))
    def later_attempt(self, obj):
        escalated = obj.current_outcome() != obj.outcome
        return render_to_string(
            "admin/screening/intakesubmission/_later_attempt.html",
            {
                "submission": obj,
                "escalated": escalated,
                "flags": labelled_flags(obj, obj.escalated_flags, explain=False),
            },
        )

    @admin.display(description=_("answers"))
    def answers_table(self, obj):
        flagged = {flag["key"] for flag in obj.flags}
        answers = [{**answer, "flagged": answer["key"] in flagged} for answer in obj.answers]
        return render_to_string(
            "admin/screening/intakesubmission/_answers_table.html", {"answers": answers}
        )

    @admin.display(description=_("downloads"))
    def downloads(self, obj):
        if obj.pk is None:
            return ""
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:screening_intakesubmission_fhir", args=[obj.pk]),
            _("FHIR QuestionnaireResponse (JSON)"),
        )

    @admin.display(description=_("who has opened or exported this"))
    def access_log(self, obj):
        return render_to_string(
            "admin/screening/intakesubmission/_access_log.html",
            {"accesses": obj.accesses.select_related("user")[:200]},
        )


def labelled_flags(submission, flags, *, explain=True) -> list[dict]:
    """The flags with each question's wording as asked, for the templates."""
    labels = {answer["key"]: answer["question"] for answer in submission.answers}
    return [
        {
            "level": flag["level"],
            "question": labels.get(flag["key"], flag["key"]),
            "explanation": flag.get("explanation", "") if explain else "",
            "detail": flag.get("detail", ""),
        }
        for flag in flags
    ]


@admin.register(SubmissionAccess)
class SubmissionAccessAdmin(ClinicalOnly, admin.ModelAdmin):
    """The access log, read-only: who opened, exported, listed or searched submissions."""

    list_display = ["at", "user", "kind", "submission_link", "query"]
    list_filter = ["kind", ("at", DateFieldListFilter), "user"]
    list_select_related = ["user"]
    fields = readonly_fields = ("at", "user", "kind", "submission_link", "query")
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("submission"), ordering="submission")
    def submission_link(self, obj):
        if obj.submission_id is None:
            return "-"
        return format_html(
            '<a href="{}">#{}</a>',
            reverse("admin:screening_intakesubmission_change", args=[obj.submission_id]),
            obj.submission_id,
        )


class DraftOnly:
    """Questions and rules change only while their questionnaire is a draft."""

    def questionnaire_of(self, obj):
        return obj

    def is_draft(self, obj):
        questionnaire = self.questionnaire_of(obj) if obj is not None else None
        return questionnaire is None or questionnaire.status == QuestionnaireStatus.DRAFT

    def has_change_permission(self, request, obj=None):
        return self.is_draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.is_draft(obj) and super().has_delete_permission(request, obj)


class QuestionInline(DraftOnly, admin.TabularInline):
    model = Question
    fk_name = "questionnaire"
    extra = 0
    fields = ["position", "section", "key", "text", "kind", "is_required"]
    show_change_link = True
    ordering = ["position"]

    def has_add_permission(self, request, obj=None):
        return self.is_draft(obj) and super().has_add_permission(request, obj)


@admin.register(Questionnaire)
class QuestionnaireAdmin(DraftOnly, admin.ModelAdmin):
    list_display = ["version", "title", "status", "activated_at", "question_count"]
    list_filter = ["status"]
    readonly_fields = ["status", "activated_at", "activated_by", "retired_at", "fhir_link"]
    inlines = [QuestionInline]
    actions = ["activate", "clone_as_draft", "export_fhir"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_questions=Count("questions"))

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "version"]

    def has_activate_permission(self, request):
        return request.user.has_perm("screening.activate_questionnaire")

    @admin.display(description=_("questions"), ordering="n_questions")
    def question_count(self, obj):
        return obj.n_questions

    @admin.display(description=_("FHIR"))
    def fhir_link(self, obj):
        if obj.pk is None:
            return ""
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:screening_questionnaire_fhir", args=[obj.pk]),
            _("Download as FHIR R4 Questionnaire (JSON)"),
        )

    @admin.action(
        description=_("Activate the selected draft (retires the live version)"),
        permissions=["activate"],
    )
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one draft to activate."), messages.ERROR)
            return
        questionnaire = queryset.get()
        try:
            questionnaire.activate(by=request.user)
        except ValidationError as error:
            self.message_user(
                request,
                _("Version %(v)s cannot be activated: %(why)s")
                % {"v": questionnaire.version, "why": "; ".join(error.messages)},
                messages.ERROR,
            )
            return
        self.message_user(request, _("Version %(v)s is now live.") % {"v": questionnaire.version})

    @admin.action(description=_("Copy the selected version into a new draft"), permissions=["add"])
    def clone_as_draft(self, request, queryset):
        for questionnaire in queryset:
            draft = questionnaire.clone_as_draft()
            self.message_user(
                request,
                _("Draft version %(v)s created from version %(old)s.")
                % {"v": draft.version, "old": questionnaire.version},
            )

    @admin.action(description=_("Export selected as FHIR Questionnaire"), permissions=["view"])
    def export_fhir(self, request, queryset):
        name = ClinicDetails.load().name
        resources = [fhir.questionnaire_resource(q, name) for q in queryset.order_by("version")]
        return exports.fhir_response(fhir.bundle(resources), "intake-questionnaires")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/fhir/",
                self.admin_site.admin_view(self.fhir_view),
                name="screening_questionnaire_fhir",
            ),
            *super().get_urls(),
        ]

    def fhir_view(self, request, object_id):
        questionnaire = self.get_object(request, object_id)
        if questionnaire is None:
            raise Http404("No such questionnaire")
        if not self.has_view_permission(request, questionnaire):
            raise PermissionDenied
        resource = fhir.questionnaire_resource(questionnaire, ClinicDetails.load().name)
        return exports.fhir_response(resource, f"intake-questionnaire-v{questionnaire.version}")


class FlagRuleInline(DraftOnly, admin.StackedInline):
    model = FlagRule
    fk_name = "question"
    extra = 0
    fields = [
        "operator",
        "value",
        "level",
        "explanation",
        "also_question",
        "also_operator",
        "also_value",
    ]

    def questionnaire_of(self, obj):
        return obj.questionnaire

    def has_add_permission(self, request, obj=None):
        return self.is_draft(obj) and super().has_add_permission(request, obj)

    def get_formset(self, request, obj=None, **kwargs):
        # The "and also" condition may only name a question of the same version as `obj`,
        # the question whose page this inline is on.
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["also_question"].queryset = same_version_questions(obj)
        return formset


def same_version_questions(question):
    """The questions of `question`'s version (none for a question not saved yet)."""
    return Question.objects.filter(questionnaire_id=question.questionnaire_id if question else None)


@admin.register(Question)
class QuestionAdmin(DraftOnly, admin.ModelAdmin):
    list_display = ["key", "text", "kind", "questionnaire"]
    list_filter = ["questionnaire"]
    search_fields = ["key", "text"]
    inlines = [FlagRuleInline]

    def questionnaire_of(self, obj):
        return obj.questionnaire

    def has_module_permission(self, request):
        return False  # reached from a questionnaire's page

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "shown_if_question" in form.base_fields:
            form.base_fields["shown_if_question"].queryset = same_version_questions(obj)
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "questionnaire":
            kwargs["queryset"] = Questionnaire.objects.filter(status=QuestionnaireStatus.DRAFT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_formset(self, request, form, formset, change):
        for rule in formset.save(commit=False):
            rule.questionnaire_id = form.instance.questionnaire_id
            rule.save()
        for rule in formset.deleted_objects:
            rule.delete()
