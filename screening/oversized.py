"""An intake form too large to accept (over DATA_UPLOAD_MAX_MEMORY_SIZE) keeps what it can.

Django refuses such a body with a bare 400 page as soon as anything reads `request.POST` (the
CSRF check does), and the patient's answers are gone. This middleware answers first, for the
intake URL only: it reads a bounded part of the body, keeps every answer of a sensible size,
drops the ones too long to be real answers (a huge paste, or a probe), and shows the form again
with those answers and a message, under 413. Nothing is stored, so it needs no CSRF check: the
page only shows the sender what they sent.
"""

from urllib.parse import parse_qsl

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse

# Read at most this many times the limit; past that, the form comes back empty.
READ_AT_MOST = 4
# No answer on the form is longer than this (long text answers allow 2,000 characters).
LONGEST_KEPT_VALUE = 10_000


def kept_answers(body: bytes, *, complete: bool) -> tuple[QueryDict, list[str]]:
    """The answers of sensible size from an urlencoded body, and the names of those dropped."""
    pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    if not complete and pairs:
        pairs.pop()  # cut off mid-value
    data = QueryDict(mutable=True, encoding="utf-8")
    dropped = []
    for name, value in pairs:
        # latin-1 keeps the bytes as they were; decode them as the browser meant them.
        name = name.encode("latin-1").decode("utf-8", "replace")
        if len(value) > LONGEST_KEPT_VALUE:
            dropped.append(name)
            continue
        data.appendlist(name, value.encode("latin-1").decode("utf-8", "replace"))
    return data, dropped


class OversizedIntakeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if (
            request.method == "POST"
            and limit is not None
            and request.path == reverse("screening:intake")
            and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                from .views import too_large

                # The form posts urlencoded; a multipart body (never sent by our page) is not
                # worth parsing by hand, so it comes back empty.
                cap = limit * READ_AT_MOST
                readable = request.content_type == "application/x-www-form-urlencoded"
                body = request.read(cap) if readable and length <= cap else b""
                data, dropped = kept_answers(body, complete=len(body) == length)
                return too_large(request, data, dropped, length)
        return self.get_response(request)
