"""Sessions read through the shared cache and written to the database (`cached_db`), with the
outage behaviour of `clinic.resilient_sessions`. Used when CACHE_URL names a shared cache
(Redis), so that several app servers read one session store without a query per request.
"""

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDatabaseSessionStore

from clinic.resilient_sessions import ResilientSessionMixin


class SessionStore(ResilientSessionMixin, CachedDatabaseSessionStore):
    """cached_db sessions that survive a database outage as an empty session."""
