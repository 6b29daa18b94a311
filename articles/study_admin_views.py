"""The study library's admin tools: import with preview and confirm, fill in from a DOI or
PMID, and export as BibTeX or CSL-JSON.

An uploaded file is read in memory and never stored: the parsed records wait in the user's
session (server-side, signed) between the preview and the confirm step, and are dropped once
confirmed or replaced.
"""

import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from . import study_export
from .study_import import (
    LibraryIndex,
    decode_reference_file,
    errors_from_dicts,
    import_records,
    read,
    records_from_dicts,
)
from .study_lookup import LookupFailed, lookup

SESSION_KEY = "study_import"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="BibTeX (.bib), RIS (.ris), PubMed MEDLINE (.nbib or .txt) or CSL-JSON "
        "(.json), up to 5 MB; UTF-8 is best."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is over 5 MB; split it.", code="too_big")
        self.text, self.encoding = decode_reference_file(upload.read())
        return upload


class LookupForm(forms.Form):
    identifier = forms.CharField(
        label="DOI or PMID",
        max_length=200,
        help_text="e.g. 10.1001/archinternmed.2009.65 or 19433697",
    )


class StudyToolsMixin:
    """URLs and views added to StudyAdmin."""

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="articles_study_import"),
            path("lookup/", wrap(self.lookup_view), name="articles_study_lookup"),
            path("export/<str:fmt>/", wrap(self.export_view), name="articles_study_export"),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            **extra,
        }

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:articles_study_changelist")
        if request.method == "POST" and "_confirm" in request.POST:
            pending = request.session.get(SESSION_KEY)
            if not pending or pending["token"] != request.POST.get("token"):
                messages.error(
                    request, "That preview has expired or was replaced; upload the file again."
                )
                return HttpResponseRedirect(request.path)
            report = import_records(
                records_from_dicts(pending["records"]), errors_from_dicts(pending["errors"])
            )
            del request.session[SESSION_KEY]
            level = messages.WARNING if report.errors else messages.SUCCESS
            messages.add_message(request, level, f"{pending['name']}: {report.summary()}")
            return HttpResponseRedirect(changelist)
        form = ImportForm(request.POST or None, request.FILES or None)
        context = {"form": form}
        if request.method == "POST" and form.is_valid():
            name = form.cleaned_data["file"].name
            records, errors = read(name, form.text)
            report = import_records(records, errors, dry_run=True)
            token = uuid.uuid4().hex
            request.session[SESSION_KEY] = {
                "token": token,
                "name": name,
                "records": [record.as_dict() for record in records],
                "errors": [error.__dict__ for error in errors],
                "at": timezone.now().isoformat(),
            }
            context.update(report=report, token=token, name=name)
            if form.encoding not in ("UTF-8", "UTF-16"):
                context["encoding_note"] = (
                    f"{name} is not UTF-8: it was read as {form.encoding}. Check accented "
                    "names below, or export the file again as UTF-8."
                )
        return TemplateResponse(
            request,
            "admin/articles/study/import.html",
            self._context(request, "Import studies", **context),
            status=400 if request.method == "POST" and not form.is_valid() else 200,
        )

    def lookup_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = LookupForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                record = lookup(form.cleaned_data["identifier"])
            except LookupFailed as exc:
                form.add_error("identifier", str(exc))
            else:
                duplicate = LibraryIndex().duplicate_of(record)
                if duplicate:
                    key, matched = duplicate
                    form.add_error(
                        "identifier",
                        f"The library already has this study as {key} (same {matched}).",
                    )
                else:
                    initial = {
                        "key": LibraryIndex().new_key(record),
                        "authors": record.authors_text(),
                        "title": record.title,
                        "journal": record.journal,
                        "year": record.year or "",
                        "volume": record.volume,
                        "issue": record.issue,
                        "pages": record.pages,
                        "doi": record.doi,
                        "pmid": record.pmid,
                        # A suggestion only: the reviewer checks it before saving.
                        "study_type": record.suggested_study_type(),
                    }
                    messages.info(
                        request,
                        "Filled in from "
                        + ("PubMed" if record.source == "PubMed" else "Crossref")
                        + ": check every field, add the type and plain-language finding, "
                        "and save.",
                    )
                    url = reverse("admin:articles_study_add")
                    return HttpResponseRedirect(f"{url}?{urlencode(initial)}")
        return TemplateResponse(
            request,
            "admin/articles/study/lookup.html",
            self._context(request, "Fill in a study from its DOI or PMID", form=form),
            status=400 if form.errors else 200,
        )

    def export_view(self, request, fmt):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return export_response(self.get_queryset(request).order_by("key"), fmt, "library")


def export_response(studies, fmt, filename):
    """A download of `studies` in `fmt` ('bibtex' or 'csl-json')."""
    if fmt not in study_export.FORMATS:
        raise PermissionDenied  # unknown format: nothing to serve
    render, content_type, extension = study_export.FORMATS[fmt]
    response = HttpResponse(render(studies), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
    return response
