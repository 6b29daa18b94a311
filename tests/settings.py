"""Settings for the test run: production settings with a test key and fast, local services."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-real-site")

from clinic.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Serve static files from the finders; there is no collectstatic before tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
SECURE_SSL_REDIRECT = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# The second factor is enforced as in production; tests/conftest.py lets most tests sign staff in
# with force_login alone, and the tests of the second factor turn that off.
# The page cache is off for the suite (pages are compared before and after changes inside one
# test transaction); tests/test_page_cache.py turns it on.
PAGE_CACHE_SECONDS = 0
