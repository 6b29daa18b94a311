"""Database sessions that do not turn a database outage into an error page.

The intake form must still give a patient advice while the database is unreachable (see
`screening.fallback`), but every page reads the session (the signed-in user, messages, the
form's token). With this store a session that cannot be read behaves as an empty one for this
request, and is then neither saved (that would overwrite the real contents with nothing) nor
deleted (the cookie stays, so the patient's session is intact once the database is back).
A save that fails is logged and skipped: the page has been computed, and the next request
saves again.
"""

import logging

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)


class ResilientSessionMixin:
    """The outage behaviour above, for any session store that ends in the database."""

    unreadable = False

    def load(self):
        try:
            return super().load()
        except DATABASE_DOWN:
            logger.warning("Session store unreachable; this request runs without its session")
            self.unreadable = True
            return {}

    def is_empty(self):
        # An unreadable session is not known to be empty: keep its cookie.
        return False if self.unreadable else super().is_empty()

    def save(self, must_create=False):
        if self.unreadable:
            return
        try:
            super().save(must_create=must_create)
        except DATABASE_DOWN:
            logger.warning("Session store unreachable; this session change was not saved")


class SessionStore(ResilientSessionMixin, DatabaseSessionStore):
    """Sessions in the database (one server, or a cache that is not shared)."""
