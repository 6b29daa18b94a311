"""Characters that never belong in text typed into this site, checked in one place.

PostgreSQL refuses NUL in text and JSON (the query fails with a DataError, which would be a 500),
a lone surrogate cannot be encoded to UTF-8 at all, and U+FFFD is what the request parser leaves
where the browser sent bytes that are not UTF-8. None of these can be typed on a keyboard; they
come from damaged requests or probes. Stored, they show as `Utf��Test` to staff.

- `find_unsafe_characters(text)`: a message for people, or None when the text is fine.
- `reject_unsafe_characters`: the same as a form/model validator (code "unsafe_characters").
- `UnsafeQueryStringMiddleware`: answers 400 with a clear page for a query string carrying
  such characters, or a value longer than any search or filter needs, for every URL. Form
  bodies are left to their forms, which show the error beside the field and keep everything
  else typed.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _

# Line breaks and tabs are ordinary in typed text; other C0/C1 controls are not.
_ALLOWED_CONTROLS = frozenset("\n\r\t")

# Searches, filters and return addresses fit in far less (the public search shortens what it is
# given to 200 characters, with a message). SQLite refuses a LIKE pattern over 50,000 bytes with
# an error, a 500 from an admin search: 10,000 characters are at most 40,000 bytes in UTF-8.
MAX_QUERY_VALUE_LENGTH = 10_000


def find_unsafe_characters(text: str) -> str | None:
    """Why this text cannot be accepted, in words for the person who sent it; None if it can."""
    for char in text:
        if char == "\x00":
            return _("It contains a NUL character (an invisible control code). Remove it.")
        if char == "\ufffd":
            return _(
                "Part of it did not arrive as readable text (the browser sent characters that "
                "are not valid UTF-8). Please type it again."
            )
        category = unicodedata.category(char)
        if category == "Cs":
            return _("It contains a broken character (a lone surrogate). Please type it again.")
        if category == "Cc" and char not in _ALLOWED_CONTROLS:
            return _("It contains invisible control characters. Remove them.")
    return None


def reject_unsafe_characters(value) -> None:
    """Validator: refuse text with NUL, lone surrogates, control codes or undecodable bytes."""
    if isinstance(value, str) and (problem := find_unsafe_characters(value)):
        raise ValidationError(problem, code="unsafe_characters")


class UnsafeQueryStringMiddleware:
    """Refuse (400) a query string whose names or values hold characters text never needs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            for text in (name, *values):
                if problem := find_unsafe_characters(text) or _too_long(text):
                    return render(
                        request,
                        "400.html",
                        {
                            "problem": problem,
                            "parameter": "" if find_unsafe_characters(name) else name[:40],
                        },
                        status=400,
                    )
        return self.get_response(request)


def _too_long(text: str) -> str | None:
    if len(text) > MAX_QUERY_VALUE_LENGTH:
        return _(
            "It is %(length)s characters long; searches and filters take at most %(limit)s. "
            "Shorten it and try again."
        ) % {"length": f"{len(text):,}", "limit": f"{MAX_QUERY_VALUE_LENGTH:,}"}
    return None
