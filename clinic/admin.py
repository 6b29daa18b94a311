from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import two_factor

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


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Django's user admin, plus whether each account has a second factor and a reset action."""

    # The stubs declare list_display per instance of the generic admin, so reading Django's
    # class attribute here is "ambiguous" to mypy; at run time it is a plain tuple.
    list_display = [*UserAdmin.list_display, "has_second_factor"]  # type: ignore[misc]
    actions = ["reset_second_factor"]

    def get_queryset(self, request):
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_second_factor=Exists(confirmed))

    @admin.display(boolean=True, description="second factor", ordering="has_second_factor")
    def has_second_factor(self, user):
        return user.has_second_factor

    @admin.action(
        description="Reset the second factor of the selected users (they enrol again)",
        permissions=["reset_second_factor"],
    )
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            two_factor.reset_second_factor(user, by=request.user)
        self.message_user(
            request,
            f"Second factor reset for {len(queryset)} user(s); each sets one up at next sign-in.",
            messages.SUCCESS,
        )

    def has_reset_second_factor_permission(self, request):
        # Only a superuser may remove another account's second factor.
        return request.user.is_superuser
