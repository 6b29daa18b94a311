"""Template context shared by every page."""

from django.utils.functional import SimpleLazyObject

from .models import ClinicDetails


def clinic_details(request):
    """Expose the clinic's details as `clinic`, loaded only if a template uses them."""
    return {"clinic": SimpleLazyObject(ClinicDetails.current)}
