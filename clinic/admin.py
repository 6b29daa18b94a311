from django.contrib import admin

from .models import ClinicDetails


@admin.register(ClinicDetails)
class ClinicDetailsAdmin(admin.ModelAdmin):
    fieldsets = [
        (None, {"fields": ["name", "tagline", "address", "phone", "email", "opening_hours"]}),
        (
            "Safety and urgent care",
            {
                "fields": [
                    "emergency_notice",
                    "urgent_care_message",
                    "emergency_phone",
                    "urgent_advice_phone",
                ]
            },
        ),
        ("Intake", {"fields": ["intake_email"]}),
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
