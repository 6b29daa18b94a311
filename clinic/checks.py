"""Deployment checks (`manage.py check --deploy`) for settings this project depends on."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.caches, deploy=True)
def check_shared_cache(app_configs, **kwargs):
    """The intake rate limit counts in the default cache; per-process caches count per worker."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in PER_PROCESS_CACHES:
        return [
            Warning(
                f"The default cache ({backend.rsplit('.', 1)[-1]}) is not shared between server "
                "processes, so the intake rate limit is counted per worker and does not hold.",
                hint="Set CACHE_URL to Redis (redis://host:6379/0), Memcached or the database "
                "cache (dbcache://clinic_cache, then run createcachetable).",
                id="clinic.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_staff_second_factor(app_configs, **kwargs):
    """Production should ask every staff account for a second factor."""
    if not settings.DEBUG and not settings.STAFF_2FA_REQUIRED:
        return [
            Warning(
                "STAFF_2FA_REQUIRED is off with DEBUG off: Authors and Medical reviewers sign in "
                "with a password alone (superusers and Clinical staff still need a second factor).",
                hint="Unset STAFF_2FA_REQUIRED (it defaults to on when DEBUG is off).",
                id="clinic.W002",
            )
        ]
    return []
