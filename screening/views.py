"""Public intake form views."""

from django.views.generic import TemplateView


class IntakeView(TemplateView):
    """The public intake form (built out by the screening work)."""

    template_name = "screening/intake_form.html"
