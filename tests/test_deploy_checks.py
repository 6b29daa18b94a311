"""`check --deploy` warns about settings that quietly weaken production."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from clinic import checks


def ids(messages):
    return {message.id for message in messages}


def test_a_per_process_cache_is_reported(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert ids(checks.check_shared_cache(None)) == {"clinic.W001"}


def test_a_shared_cache_passes(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert checks.check_shared_cache(None) == []


def test_second_factor_off_in_production_is_reported(settings):
    settings.DEBUG = False
    settings.STAFF_2FA_REQUIRED = False
    assert ids(checks.check_staff_second_factor(None)) == {"clinic.W002"}


def test_second_factor_off_in_development_is_fine(settings):
    settings.DEBUG = True
    settings.STAFF_2FA_REQUIRED = False
    assert checks.check_staff_second_factor(None) == []


@pytest.mark.django_db
def test_check_deploy_fails_on_the_warnings(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with pytest.raises(SystemCheckError, match=r"clinic\.W001"):
        call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "caches")


def test_gunicorn_trusts_no_proxy_unless_told(monkeypatch):
    import runpy
    from pathlib import Path

    path = str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py")
    monkeypatch.delenv("TRUSTED_PROXY_IPS", raising=False)
    assert runpy.run_path(path)["forwarded_allow_ips"] == ""
    monkeypatch.setenv("TRUSTED_PROXY_IPS", "10.0.0.5")
    assert runpy.run_path(path)["forwarded_allow_ips"] == "10.0.0.5"
