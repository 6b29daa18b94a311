"""Settings for the processes the fault tests start (gunicorn, the worker): production settings
over plain HTTP on 127.0.0.1, with emails written to files the test counts."""

import os

from tests.settings import *  # noqa: F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": os.environ.get("FAULT_MAIL_DIR", "/tmp/clinic-fault-mail")},
    }
}
INTAKE_NOTIFY_EMAIL = "intake@clinic.example"
