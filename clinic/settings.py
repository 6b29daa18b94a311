"""Settings for the clinic CMS, read from the environment (see README and .env.example).

Defaults are production-safe: DEBUG is off and a missing SECRET_KEY stops start-up.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from clinic.devmode import DEVELOPMENT_SECRET_KEY

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "value (DEBUG is off, so there is no development default)."
        )
    SECRET_KEY = DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "clinic",
    "articles",
    "screening",
    "search",
    "questions",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "clinic.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session: a cached public page is answered without reading one.
    "clinic.page_cache.PublicPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.middleware.StaffSessionMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinic.middleware.StaffSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "clinic.context_processors.clinic_details",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'clinic.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
# Keep each worker's connection between requests. Even on SQLite, opening one per request (with
# its pragmas) and closing it (the last close checkpoints the WAL) cost more than rendering an
# article page.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # WAL and a busy timeout let the demo server and a second command share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out username and address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend with one query for a user's groups and permissions.
    "clinic.auth_backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# One UK date style everywhere: clinic/formats/en_GB/formats.py.
FORMAT_MODULE_PATH = ["clinic.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    # No collectstatic in development: serve files straight from the finders.
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://clinic")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same backend, reusing one client per connection pool (see clinic/redis_cache.py).
    CACHES["default"]["BACKEND"] = "clinic.redis_cache.RedisCache"
# Keeps this site's keys apart when one Redis serves several sites (or test runs).
CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default="clinic")
# A cache every app server shares (Redis, memcached) rather than one per process.
SHARED_CACHE = not CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache"))

# Page cache for anonymous public pages (clinic/page_cache.py), in the default cache, so that
# with Redis every server shares it and sees an invalidation at once. 0 switches it off.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=300)
PAGE_CACHE_ALIAS = "default"
# Rendered per-revision fragments (references, evidence summary, JSON-LD), keyed by revision
# and content generation, so they are never stale; the lifetime only bounds memory.
FRAGMENT_CACHE_SECONDS = env.int("FRAGMENT_CACHE_SECONDS", default=86400)
# Cache-Control for public pages, for browsers (max-age) and shared caches/CDNs (s-maxage).
# Kept short: a CDN is not told when an article changes.
HTTP_CACHE_MAX_AGE = env.int("HTTP_CACHE_MAX_AGE", default=60)
HTTP_CACHE_S_MAXAGE = env.int("HTTP_CACHE_S_MAXAGE", default=120)
HTTP_CACHE_STALE_SECONDS = env.int("HTTP_CACHE_STALE_SECONDS", default=60)

# Email goes to the console unless EMAIL_URL names an SMTP server (smtp+tls://user:pw@host:587).
MAILERS = {
    "default": {
        "BACKEND": env.str(
            "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
        ),
    }
}
if "EMAIL_URL" in env:
    _email = env.email("EMAIL_URL")
    MAILERS["default"] = {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {
            "host": _email.get("EMAIL_HOST", "localhost"),
            "port": _email.get("EMAIL_PORT", 25),
            "username": _email.get("EMAIL_HOST_USER", ""),
            "password": _email.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": _email.get("EMAIL_USE_TLS", False),
            "use_ssl": _email.get("EMAIL_USE_SSL", False),
        },
    }
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="clinic@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Contact address sent to Crossref and PubMed with study look-ups, as both ask.
CROSSREF_MAILTO = env.str("CROSSREF_MAILTO", default="webmaster@example.org")
LOOKUP_TIMEOUT_SECONDS = env.float("LOOKUP_TIMEOUT_SECONDS", default=4.0)

# Articles: the change page warns when a body reads above this (Flesch-Kincaid) school grade;
# 9 is about a reading age of 14, what UK health-information guidance aims for.
ARTICLE_MAX_READING_GRADE = env.float("ARTICLE_MAX_READING_GRADE", default=9.0)
# Articles with at least this many section headings get a table of contents.
ARTICLE_CONTENTS_MIN_HEADINGS = env.int("ARTICLE_CONTENTS_MIN_HEADINGS", default=4)

# Background tasks (intake notifications) are stored in the database and run by
# `manage.py db_worker`; see screening/README_SECTION.md.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Intake: where new submissions are announced when ClinicDetails.intake_email is empty, and the
# per-IP submission limit (needs a shared CACHE_URL to hold across several server processes).
INTAKE_NOTIFY_EMAIL = env.str("INTAKE_NOTIFY_EMAIL", default="")
INTAKE_RATE_LIMIT = env.str("INTAKE_RATE_LIMIT", default="10/h")
# Patient questions stored per IP address (django-ratelimit, in the same cache as intake).
QUESTION_RATE_LIMIT = env.str("QUESTION_RATE_LIMIT", default="5/h")
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="REMOTE_ADDR")
# How long a new form may wait for staff, by its outcome, before the queue marks it overdue.
# Written "urgent=4,review=48,routine=48"; an outcome left out keeps its default.
INTAKE_TARGET_HOURS = {"urgent": 4, "review": 48, "routine": 48}
for _outcome, _hours in env.dict("INTAKE_TARGET_HOURS", default={}).items():
    if _outcome not in INTAKE_TARGET_HOURS or not _hours.isdigit():
        raise ImproperlyConfigured(
            f"INTAKE_TARGET_HOURS: {_outcome}={_hours} is not an outcome (urgent, review, "
            "routine) with a whole number of hours"
        )
    INTAKE_TARGET_HOURS[_outcome] = int(_hours)

# Security: secure by default; a reverse proxy that terminates TLS sets SECURE_PROXY_SSL_HEADER.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# The addresses of the reverse proxies that terminate TLS (gunicorn.conf.py reads the same
# variable for forwarded_allow_ips). Only with one configured does Django believe the proxy's
# X-Forwarded-Proto; otherwise anyone reaching the app server could claim HTTPS.
TRUSTED_PROXY_IPS = env.list("TRUSTED_PROXY_IPS", default=[])
if TRUSTED_PROXY_IPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (Django's own middleware): scripts and styles from this site or with
# the page's nonce, nothing inline otherwise, no framing. Images may come from https sites
# because article bodies can show images hosted elsewhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:", "https:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Powerful browser features the site never uses are switched off for it and anything it embeds.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in [
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    ]
}

# Staff sign-in. A second factor (TOTP app or recovery code, django-otp) for every staff account
# unless STAFF_2FA_REQUIRED is turned off; even then superusers and Clinical staff need one
# whenever DEBUG is off (clinic.two_factor.second_factor_required).
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Clinic CMS")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Staff sessions end after this long without a request, and this long after signing in.
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
STAFF_SESSION_MAX_HOURS = env.int("STAFF_SESSION_MAX_HOURS", default=12)

# Lockout (django-axes): AXES_FAILURE_LIMIT wrong passwords for one username from one address
# lock that pair for AXES_COOLOFF_HOURS, or until staff clear it in Admin -> Access attempts.
# Unknown usernames are counted the same way, so the lockout reveals nothing about accounts.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "clinic/lockout.html"
AXES_CLIENT_IP_CALLABLE = "clinic.client_ip.client_ip"
AXES_VERBOSE = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Bad input and database outages (issue 8, input and resilience) -----------------------------
# Query strings with NUL, lone surrogates or undecodable bytes get a clear 400 on every URL.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "clinic.input_guard.UnsafeQueryStringMiddleware",
)
# An intake form over DATA_UPLOAD_MAX_MEMORY_SIZE comes back with the answers it can keep (413)
# instead of Django's bare 400; it must answer before the CSRF check reads the body.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.csrf.CsrfViewMiddleware"),
    "screening.oversized.OversizedIntakeMiddleware",
)
# Sessions that survive a database outage as "no session for this request" (no error page),
# and the clinic phone shown to patients when the database and every cached copy are gone.
SESSION_ENGINE = "clinic.resilient_sessions"
if SHARED_CACHE:
    # Several app servers: sessions are read from the shared cache, written through to the DB.
    SESSION_ENGINE = "clinic.resilient_cached_sessions"
CLINIC_PHONE = env.str("CLINIC_PHONE", default="")
# The notification worker: a task RUNNING longer than this lease (its worker died) is queued
# again, and a submission's email claim expires after it; the catch-up command re-queues emails
# for submissions older than INTAKE_NOTIFY_CATCH_UP_MINUTES that were never sent.
TASK_LEASE_SECONDS = env.int("TASK_LEASE_SECONDS", default=300)
INTAKE_NOTIFY_CATCH_UP_MINUTES = env.int("INTAKE_NOTIFY_CATCH_UP_MINUTES", default=5)
