from django import forms


class SecondFactorForm(forms.Form):
    """A six-digit code from the authenticator app, or one recovery code."""

    token = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code your authenticator app shows now, or one recovery code.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )
