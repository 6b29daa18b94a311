"""Sessions read through the shared cache and written to the database (`cached_db`), with the
outage behaviour of `clinic.resilient_sessions`. Used when CACHE_URL names a shared cache
(Redis), so that several app servers read one session store without a query per request.

The cache is a copy: while it is unreachable, sessions are read from and written to the
database alone (Django's own store already tolerates a failed write to the cache, but not a
failed copy after reading from the database or a lookup of a new key). Signing out is the
exception: it fails visibly when the cache cannot drop its copy.
"""

import logging

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDatabaseSessionStore
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

from clinic.resilient_sessions import ResilientSessionMixin

logger = logging.getLogger(__name__)


class _CacheOptionalSessionStore(CachedDatabaseSessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            logger.warning("Session cache unreachable; reading the session from the database")
            return DatabaseSessionStore.load(self)
        if data is not None:
            return data
        session = self._get_session_from_db()
        if not session:
            return {}
        data = self.decode(session.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=session.expire_date))
        except Exception:
            logger.warning("Session cache unreachable; the session was not copied to it")
        return data

    def exists(self, session_key):
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:
            logger.warning("Session cache unreachable; looking the key up in the database")
        return DatabaseSessionStore.exists(self, session_key)

    def delete(self, session_key=None):
        """Signing out: fails visibly, having changed nothing, when the cache cannot drop its
        copy (after a brief cache error that copy could still be served); the copy goes again
        after the row, in case a request copied the row back meanwhile."""
        session_key = session_key or self.session_key
        if session_key is None:
            return
        self._cache.delete(self.cache_key_prefix + session_key)
        DatabaseSessionStore.delete(self, session_key)
        self._cache.delete(self.cache_key_prefix + session_key)


class SessionStore(ResilientSessionMixin, _CacheOptionalSessionStore):
    """cached_db sessions that survive a database outage as an empty session, and a cache
    outage as database sessions."""
