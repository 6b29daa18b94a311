"""The shared page cache for anonymous public pages, and the one way to invalidate it.

Every cached page and every rendered fragment is stored under the current *content generation*,
a value kept in the shared cache (Redis in production). `content_changed()` replaces that value,
so every app server sees the change at its next request: nothing is deleted, the old entries
are simply never asked for again and expire. It is called for every event that changes what
patients see (see `clinic.apps` for the list of models and signals that lead to it).

A page is stored only when it is safe to give to anyone:
- the view marked it public (`public_page`): forms with a CSRF token (intake, ask a question,
  sign-in) and staff pages are never marked;
- the request carried no session or messages cookie (so staff, and a patient who has just sent
  a form, are never served from the cache and their pages are never stored);
- the response is a 200 without `Set-Cookie` and the view never asked for a CSRF token.
`PAGE_CACHE_SECONDS` sets the lifetime; 0 switches the page cache off (HTTP caching headers,
conditional requests and compression of public pages still apply).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)

logger = logging.getLogger(__name__)

GENERATION_KEY = "clinic:content-generation"
# Compressing tiny bodies costs more than it saves.
MIN_COMPRESS_BYTES = 200


# The generation as this request first read it (PublicPageMiddleware opens the scope), so that
# the page cache, the fragments and the clinic details ask the shared cache once per request.
# Reading it once, before the data it keys, is as safe as reading it each time: anything stored
# under it was read after it was current. Outside a request it is read on every call.
_request_generation: ContextVar[list[str | None] | None] = ContextVar(
    "clinic_request_generation", default=None
)


def _cache():
    return caches[settings.PAGE_CACHE_ALIAS]


def generation() -> str:
    """The current content generation, shared by every server through the cache."""
    read_in_request = _request_generation.get()
    if read_in_request is not None and read_in_request[0] is not None:
        return read_in_request[0]
    cache = _cache()
    value = cache.get(GENERATION_KEY)
    if value is None:
        value = uuid.uuid4().hex
        # Two servers starting at once: the first value stored wins, both use it.
        if not cache.add(GENERATION_KEY, value, timeout=None):
            value = cache.get(GENERATION_KEY) or value
    if read_in_request is not None:
        read_in_request[0] = value
    return value


def new_generation() -> None:
    """Start a new content generation now, on every server (see `content_changed`)."""
    value = uuid.uuid4().hex
    read_in_request = _request_generation.get()
    if read_in_request is not None:
        # The rest of this request (a staff edit) renders under the new generation.
        read_in_request[0] = value
    try:
        _cache().set(GENERATION_KEY, value, timeout=None)
    except Exception:
        # The cache is down: nothing can be served from it either, so nothing goes stale.
        logger.exception("Could not bump the content generation")


def content_changed(**_signal_arguments) -> None:
    """Invalidate every cached public page and fragment, on every server.

    Bumped at once (a request that reads the new data before the commit stores it under the
    new generation only after it has read it) and again after the transaction commits (a
    request that read the old data while the change was in flight stored it under the
    generation that is then replaced). Usable directly as a signal receiver.
    """
    new_generation()
    transaction.on_commit(new_generation)


_per_generation: dict[str, tuple[str, object]] = {}


def per_generation[T](name: str, read: Callable[[], T]) -> T:
    """What `read()` returns, kept in this process for the current content generation: for
    data every page shows (the clinic's details, the active questionnaire), which only a change
    patients see can alter, and any such change, on any server, starts a new generation.
    Without the cache, `read()` runs every time; if it raises, nothing is kept."""
    try:
        # Read before the data, so that what is kept is never older than its generation.
        current = generation()
    except Exception:
        logger.warning("Content generation unreadable; reading %s afresh", name)
        return read()
    kept = _per_generation.get(name)
    if kept is not None and kept[0] == current:
        return kept[1]  # type: ignore[return-value]
    value = read()
    _per_generation[name] = (current, value)
    return value


def forget_per_generation(name: str) -> None:
    """Drop what `per_generation` keeps under `name` in this process."""
    _per_generation.pop(name, None)


def fragment_key(*parts: object) -> str:
    """A cache key for a rendered fragment, valid for the current content generation."""
    return ":".join(["clinic:fragment", generation(), *map(str, parts)])


def fragment(parts: tuple, build: Callable[[], object]):
    """The fragment stored for `parts` in this generation, built and stored if missing."""
    try:
        cache = _cache()
        key = fragment_key(*parts)
        value = cache.get(key)
    except Exception:
        # An unreachable cache must not take the page down with it: render as before.
        logger.exception("Fragment cache unreachable; rendering the fragment")
        return build()
    if value is None:
        value = build()
        try:
            cache.set(key, value, timeout=settings.FRAGMENT_CACHE_SECONDS)
        except Exception:
            logger.exception("Could not store a fragment")
    return value


# --- Public pages ----------------------------------------------------------------------------

PUBLIC_ATTRIBUTE = "clinic_public_page"


def public_page(view):
    """Mark a view's responses as public pages: the same for every anonymous visitor."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        setattr(response, PUBLIC_ATTRIBUTE, True)
        return response

    return wrapper


def is_anonymous_request(request: HttpRequest) -> bool:
    """True when nothing in the request can make the page personal: no session (staff, or a
    patient who sent a form) and no flash messages waiting."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


def _page_key(request: HttpRequest) -> str:
    address = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    digest = hashlib.sha256(address.encode()).hexdigest()
    return f"clinic:page:{generation()}:{digest}"


def _accepts_gzip(request: HttpRequest) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


class PublicPageMiddleware:
    """Page cache, HTTP caching headers, conditional GET and compression for public pages.

    Place after WhiteNoise and before SessionMiddleware: a cached page is answered without
    touching the session or the database. Only responses of views marked with `public_page`
    are treated; every other response passes through untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        scope = _request_generation.set([None])
        try:
            return self.respond(request)
        finally:
            _request_generation.reset(scope)

    def respond(self, request: HttpRequest) -> HttpResponseBase:
        cacheable = (
            request.method in ("GET", "HEAD")
            and settings.PAGE_CACHE_SECONDS > 0
            and is_anonymous_request(request)
        )
        key = None
        if cacheable:
            try:
                key = _page_key(request)
                stored = _cache().get(key)
            except Exception:
                logger.exception("Page cache unreachable; rendering the page")
                key = stored = None
            if stored is not None:
                return self.finish(request, _from_stored(stored), stored=None)
        response = self.get_response(request)
        if not getattr(response, PUBLIC_ATTRIBUTE, False):
            return response
        if not is_anonymous_request(request):
            # A staff member, or a patient with messages: the page may be personal.
            patch_cache_control(response, private=True, max_age=0)
            return response
        self.mark_public(response)
        if (
            key is not None
            and response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
            and not request.META.get("CSRF_COOKIE_USED")
        ):
            return self.finish(request, response, stored=key)
        return self.finish(request, response, stored=None)

    @staticmethod
    def mark_public(response: HttpResponse) -> None:
        patch_cache_control(
            response,
            public=True,
            max_age=settings.HTTP_CACHE_MAX_AGE,
            s_maxage=settings.HTTP_CACHE_S_MAXAGE,
            stale_while_revalidate=settings.HTTP_CACHE_STALE_SECONDS,
        )
        if "ETag" not in response and not response.streaming and response.status_code == 200:
            # Weak: the gzip and plain bodies are the same page.
            digest = hashlib.md5(response.content, usedforsecurity=False).hexdigest()
            response["ETag"] = f'W/"{digest}"'
        patch_vary_headers(response, ["Accept-Encoding"])

    def finish(self, request, response: HttpResponse, *, stored: str | None):
        """Store (when `stored` names a key), answer a conditional request, compress."""
        if stored is not None:
            try:
                _cache().set(stored, _to_stored(response), timeout=settings.PAGE_CACHE_SECONDS)
            except Exception:
                logger.exception("Could not store the page in the page cache")
        conditional = get_conditional_response(
            request, etag=response.get("ETag"), response=response
        )
        if conditional is not None and conditional is not response:
            for header in ("Cache-Control", "Vary", "ETag"):
                if header in response:
                    conditional[header] = response[header]
            return conditional
        gzipped = getattr(response, "clinic_gzipped", None)
        if _accepts_gzip(request) and response.status_code == 200 and not response.streaming:
            if gzipped is None and len(response.content) >= MIN_COMPRESS_BYTES:
                gzipped = _compress(response.content)
            if gzipped is not None and len(gzipped) < len(response.content):
                response.content = gzipped
                response["Content-Encoding"] = "gzip"
                response["Content-Length"] = str(len(gzipped))
        return response


def _compress(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0)


def _to_stored(response: HttpResponse) -> tuple:
    """A compact, picklable copy of a response, with its body compressed once for all."""
    body = response.content
    gzipped = _compress(body) if len(body) >= MIN_COMPRESS_BYTES else None
    headers = [(name, value) for name, value in response.items() if name != "Content-Length"]
    return (response.status_code, headers, body, gzipped)


def _from_stored(stored: tuple) -> HttpResponse:
    status, headers, body, gzipped = stored
    response = HttpResponse(body, status=status)
    for name, value in headers:
        response[name] = value
    response.clinic_gzipped = gzipped  # type: ignore[attr-defined]
    return response
