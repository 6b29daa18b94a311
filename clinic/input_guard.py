"""Characters that never belong in text typed into this site, checked in one place.

PostgreSQL refuses NUL in text and JSON (the query fails with a DataError, which would be a 500),
a lone surrogate cannot be encoded to UTF-8 at all, and U+FFFD is what the request parser leaves
where the browser sent bytes that are not UTF-8. None of these can be typed on a keyboard; they
come from damaged requests or probes. Stored, they show as `Utf��Test` to staff.

- `find_unsafe_characters(text)`: a message for people, or None when the text is fine.
- `reject_unsafe_characters`: the same as a form/model validator (code "unsafe_characters").
- `UnsafeQueryStringMiddleware`: answers 400 with a clear page for a query string carrying
  such characters, or a search longer than the database can take, for every URL. Form bodies
  are left to their forms, which show the error beside the field and keep everything else
  typed.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _

# Line breaks and tabs are ordinary in typed text; other C0/C1 controls are not.
_ALLOWED_CONTROLS = frozenset("\n\r\t")

# The parameters that become LIKE patterns: the admin's search box and its autocomplete. SQLite
# refuses a pattern over 50,000 bytes with an error (a 500); 10,000 characters are at most 40,000
# bytes in UTF-8. Other long values stay allowed: the admin copies a list's whole address, search
# included and percent-encoded, into `_changelist_filters` on its links, as `next` carries the
# address a sign-in returns to; and the public search shortens its query itself, with a message.
SEARCH_PARAMETERS = frozenset({"q", "term"})
MAX_SEARCH_LENGTH = 10_000


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
    """Refuse (400) a query string whose names or values hold characters text never needs, or
    whose search is longer than the database can take."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            for text in (name, *values):
                if problem := find_unsafe_characters(text) or _search_too_long(name, text):
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


def _search_too_long(name: str, text: str) -> str | None:
    if name in SEARCH_PARAMETERS and len(text) > MAX_SEARCH_LENGTH:
        return _(
            "The search is %(length)s characters long; a search takes at most %(limit)s. "
            "Search for fewer words."
        ) % {"length": f"{len(text):,}", "limit": f"{MAX_SEARCH_LENGTH:,}"}
    return None
