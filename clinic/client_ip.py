"""The client's address, as the lockout (django-axes) sees it."""

from django.conf import settings


def client_ip(request) -> str:
    """The address in RATELIMIT_IP_META_KEY (the same header the intake rate limit uses), else
    REMOTE_ADDR.

    Behind a proxy, the key names a header the proxy sets; in a comma-separated list the last
    entry is the one the proxy appended itself, earlier ones are whatever the client sent.
    """
    value = request.META.get(settings.RATELIMIT_IP_META_KEY) or request.META.get("REMOTE_ADDR")
    return (value or "").split(",")[-1].strip()
