"""Site-wide clinic details, edited by staff in the admin and shown on every page."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


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

    def address_lines(self):
        return [line.strip() for line in self.address.splitlines() if line.strip()]
