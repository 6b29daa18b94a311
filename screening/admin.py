"""Staff review of intake submissions, and editing of questionnaire drafts.

Submissions are health data: only the Clinical staff group and superusers may see them, checked
on the server in every ModelAdmin permission hook and in the extra views, whatever permissions
a user has been granted one by one.
"""

import csv

from django.contrib import admin, messages
from django.contrib.admin.filters import DateFieldListFilter
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from clinic.models import ClinicDetails

from . import fhir
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
    SubmissionStatus,
)

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_clinical_staff(user) -> bool:
    """Superusers, and active staff in the Clinical staff group (cached on the user object)."""
    if not (user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, "_screening_is_clinical"):
        user._screening_is_clinical = user.groups.filter(name=CLINICAL_STAFF_GROUP).exists()
    return user._screening_is_clinical


def csv_safe(value) -> str:
    """Neutralise text a spreadsheet would run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


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


class NotifiedFilter(admin.SimpleListFilter):
    title = _("staff email")
    parameter_name = "notified"

    def lookups(self, request, model_admin):
        return [("yes", _("Sent")), ("no", _("Not sent yet"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(notified_at__isnull=self.value() == "no")
        return queryset


@admin.register(IntakeSubmission)
class IntakeSubmissionAdmin(ClinicalOnly, admin.ModelAdmin):
    list_display = [
        "reference",
        "submitted_at",
        "outcome_badge",
        "status",
        "assignee",
        "age",
        "full_name",
    ]
    list_display_links = ["reference", "submitted_at"]
    list_filter = [
        "outcome",
        "status",
        ("submitted_at", DateFieldListFilter),
        "assignee",
        NotifiedFilter,
    ]
    list_select_related = ["assignee"]
    search_fields = ["full_name", "email", "phone"]
    show_full_result_count = False
    list_per_page = 50
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

    def get_ordering(self, request):
        # Urgent submissions that nobody has acted on yet come first, then newest first. A form
        # resent with answers that were urgent counts as urgent: the patient was told so.
        urgent = Q(outcome=Outcome.URGENT) | Q(escalated_outcome=Outcome.URGENT)
        untouched_urgent = Case(
            When(urgent, status=SubmissionStatus.NEW, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return [untouched_urgent.asc(), "-submitted_at", "-pk"]

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
        return fhir_download(
            fhir.response_resource(submission), f"intake-{submission.pk}-questionnaire-response"
        )

    @admin.action(description=_("Export selected as CSV"), permissions=["export"])
    def export_csv(self, request, queryset):
        submissions = list(queryset.select_related("questionnaire", "assignee").order_by("pk"))
        record_access(request, submissions, AccessKind.EXPORTED_CSV)
        keys: dict[str, str] = {}
        for submission in submissions:
            for answer in submission.answers:
                keys.setdefault(answer["key"], answer["question"])
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="intake-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        writer = csv.writer(response)
        fixed = [
            "reference",
            "submitted_at",
            "questionnaire_version",
            "outcome",
            "status",
            "assignee",
            "full_name",
            "email",
            "phone",
            "preferred_contact",
            "flags",
        ]
        writer.writerow(fixed + list(keys))
        for submission in submissions:
            answers = {answer["key"]: answer["display"] for answer in submission.answers}
            row = [
                submission.pk,
                timezone.localtime(submission.submitted_at).isoformat(),
                submission.questionnaire.version,
                submission.outcome,
                submission.status,
                submission.assignee.get_username() if submission.assignee else "",
                submission.full_name,
                submission.email,
                submission.phone,
                submission.preferred_contact,
                "; ".join(f"{flag['level']}: {flag['key']}" for flag in submission.flags),
                *(answers.get(key, "") for key in keys),
            ]
            writer.writerow([csv_safe(cell) for cell in row])
        return response

    @admin.action(
        description=_("Export selected as FHIR QuestionnaireResponse"), permissions=["export"]
    )
    def export_fhir(self, request, queryset):
        submissions = list(queryset.select_related("questionnaire").order_by("pk"))
        record_access(request, submissions, AccessKind.EXPORTED_FHIR)
        resources = [fhir.response_resource(submission) for submission in submissions]
        return fhir_download(fhir.bundle(resources), "intake-questionnaire-responses")

    @admin.display(description=_("ref"), ordering="pk")
    def reference(self, obj):
        return f"#{obj.pk}"

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_badge(self, obj):
        colours = {
            Outcome.URGENT: ("#8a1116", "#fdecec"),
            Outcome.REVIEW: ("#6b3a00", "#fff4e5"),
            Outcome.ROUTINE: ("#14532d", "#e9f6ee"),
        }
        badge = (
            '<strong style="color:{};background:{};padding:0 .4em;border-radius:3px">{}</strong>'
        )
        html = format_html(badge, *colours[obj.outcome], obj.get_outcome_display())
        if obj.current_outcome() != obj.outcome:
            html += format_html(
                ' → <span title="{}">' + badge + "</span>",
                _("A later attempt with the same form gave this outcome"),
                *colours[obj.escalated_outcome],
                _("%(outcome)s on resending") % {"outcome": obj.get_escalated_outcome_display()},
            )
        return html

    @admin.display(description=_("age"), ordering="-submitted_at")
    def age(self, obj):
        return timesince(obj.submitted_at)

    @admin.display(description=_("flags raised"))
    def flags_raised(self, obj):
        if not obj.flags:
            return _("None")
        labels = {answer["key"]: answer["question"] for answer in obj.answers}
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><strong>{}</strong>: {}<br><small>{}</small></li>",
                (
                    (
                        flag["level"].upper(),
                        labels.get(flag["key"], flag["key"]),
                        flag["explanation"],
                    )
                    for flag in obj.flags
                ),
            ),
        )

    @admin.display(description=_("later attempt"))
    def later_attempt(self, obj):
        if obj.current_outcome() == obj.outcome:
            return _("None more urgent")
        labels = {answer["key"]: answer["question"] for answer in obj.answers}
        return format_html(
            "<p><strong>{}</strong></p><ul>{}</ul>",
            _(
                "On %(when)s the same form was sent again with changed answers that gave "
                "“%(outcome)s”. The patient was shown that advice and asked to call the clinic "
                "to update their answers. Nothing else was stored: the changed answers are in "
                "the staff notes."
            )
            % {
                "when": timezone.localtime(obj.escalated_at).strftime("%d/%m/%Y %H:%M"),
                "outcome": obj.get_escalated_outcome_display(),
            },
            format_html_join(
                "",
                "<li><strong>{}</strong>: {}</li>",
                (
                    (flag["level"].upper(), labels.get(flag["key"], flag["key"]))
                    for flag in obj.escalated_flags
                ),
            ),
        )

    @admin.display(description=_("answers"))
    def answers_table(self, obj):
        flagged = {flag["key"] for flag in obj.flags}
        rows = format_html_join(
            "",
            "<tr><td>{}</td><th scope='row'>{}</th><td>{}{}</td></tr>",
            (
                (
                    answer["section"],
                    answer["question"],
                    answer["display"],
                    format_html(" <strong>{}</strong>", "⚑") if answer["key"] in flagged else "",
                )
                for answer in obj.answers
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("Section"),
            _("Question as asked"),
            _("Answer"),
            rows,
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
        accesses = obj.accesses.select_related("user")[:200]
        if not accesses:
            return _("Nobody yet")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}: {} ({})</li>",
                (
                    (
                        timezone.localtime(access.at).strftime("%d/%m/%Y %H:%M:%S"),
                        access.user.get_username() if access.user else _("deleted user"),
                        access.get_kind_display(),
                    )
                    for access in accesses
                ),
            ),
        )


def fhir_download(resource: dict, filename: str) -> JsonResponse:
    response = JsonResponse(
        resource, content_type="application/fhir+json", json_dumps_params={"indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
    response["Cache-Control"] = "no-store"
    return response


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
        return fhir_download(fhir.bundle(resources), "intake-questionnaires")

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
        return fhir_download(resource, f"intake-questionnaire-v{questionnaire.version}")


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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "also_question":
            parent = getattr(request, "_screening_question", None)
            kwargs["queryset"] = Question.objects.filter(
                questionnaire_id=parent.questionnaire_id if parent else None
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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
        request._screening_question = obj
        return super().get_form(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        parent = getattr(request, "_screening_question", None)
        if db_field.name == "questionnaire":
            kwargs["queryset"] = Questionnaire.objects.filter(status=QuestionnaireStatus.DRAFT)
        elif db_field.name == "shown_if_question":
            kwargs["queryset"] = Question.objects.filter(
                questionnaire_id=parent.questionnaire_id if parent else None
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_formset(self, request, form, formset, change):
        for rule in formset.save(commit=False):
            rule.questionnaire_id = form.instance.questionnaire_id
            rule.save()
        for rule in formset.deleted_objects:
            rule.delete()
