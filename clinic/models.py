"""Site-wide clinic details, edited by staff in the admin and shown on every page."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, models
from django.utils.translation import gettext_lazy as _

from clinic import page_cache

logger = logging.getLogger(__name__)

# The last details read from the database, for pages served while it is unreachable (the intake
# form's advice must still carry the clinic's phone numbers).
REMEMBERED_CACHE_KEY = "clinic:details"
_remembered = None


class ClinicDetails(models.Model):
    """The clinic's public identity and contact details: a single row, created by a migration."""

    name = models.CharField(max_length=200, default="Riverside Back Pain Clinic")
    tagline = models.CharField(max_length=300, blank=True)
    address = models.TextField(blank=True, help_text=_("Postal address, one line per row."))
    phone = models.CharField(max_length=50, blank=True)
    email = models.EmailField(blank=True)
    opening_hours = models.TextField(blank=True)
    emergency_notice = models.TextField(
        blank=True,
        help_text=_("Shown in every page footer: what to do in a medical emergency."),
    )
    urgent_care_message = models.TextField(
        blank=True,
        help_text=_(
            "Shown to a patient whose intake answers need urgent medical care, above the numbers."
        ),
    )
    emergency_phone = models.CharField(
        max_length=50, default="999", help_text=_("Emergency services number.")
    )
    urgent_advice_phone = models.CharField(
        max_length=50, blank=True, help_text=_("Urgent but non-emergency advice line, e.g. 111.")
    )
    intake_email = models.EmailField(
        blank=True, help_text=_("New intake submissions are announced to this address.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("clinic details")
        verbose_name_plural = _("clinic details")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="clinicdetails_single_row"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    def clean(self):
        if self.pk not in (None, 1):
            raise ValidationError(_("There is only one set of clinic details."))

    @classmethod
    def load(cls):
        """Return the clinic's details, creating the row with defaults if it is missing."""
        details, _created = cls.objects.get_or_create(pk=1)
        return details

    @classmethod
    def current(cls):
        """The details for a page: read once per content generation (see `clinic.page_cache`:
        an edit here starts a new one, on every server), or when the database is unreachable
        the last copy read (this process, then the cache), or the defaults with `CLINIC_PHONE`.
        """
        try:
            return page_cache.per_generation("clinic.details", cls._read_and_remember)
        except (OperationalError, InterfaceError):
            logger.warning("Database unreachable: clinic details from the remembered copy")
            return remembered_details()

    @classmethod
    def _read_and_remember(cls):
        global _remembered
        details = cls.load()
        if _remembered is None or _remembered.updated_at != details.updated_at:
            _remembered = details
            try:
                cache.set(REMEMBERED_CACHE_KEY, details, timeout=None)
            except Exception:
                logger.warning("Could not keep a copy of the clinic details in the cache")
        return details

    def address_lines(self):
        return [line.strip() for line in self.address.splitlines() if line.strip()]


def remembered_details() -> ClinicDetails:
    if _remembered is not None:
        return _remembered
    try:
        details = cache.get(REMEMBERED_CACHE_KEY)
    except Exception:
        details = None
    return details or ClinicDetails(phone=settings.CLINIC_PHONE)
