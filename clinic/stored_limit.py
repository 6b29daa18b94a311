"""Per-address limits on what a patient form stores (intake forms, questions), kept by
django-ratelimit in the cache.

Only stored submissions count, so a patient correcting mistakes is never locked out. While
the cache is unreachable no limit applies: a patient's form, perhaps describing an emergency,
matters more than holding back a flood for that while (it is logged).
"""

import logging
from collections.abc import Callable

from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)


def stored_usage(request, *, group: str, rate: Callable, increment: bool = False) -> dict | None:
    """How many submissions this address has stored in the current window, counting this one
    when `increment`; None when no limit applies."""
    try:
        return get_usage(
            request, group=group, key="ip", rate=rate, method="POST", increment=increment
        )
    except Exception:
        logger.exception("Rate limit %s unreadable (cache unreachable); no limit applied", group)
        return None
