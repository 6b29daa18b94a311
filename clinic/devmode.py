"""Development mode for `manage.py demo`, switched on before Django reads its settings."""

import os
import sys
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
DEMO_DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'clinic.sqlite3'}"
DEVELOPMENT_SECRET_KEY = "development-only-insecure-key-never-use-in-production"  # noqa: S105

FALSE_VALUES = {"0", "false", "off", "no", "n", "f", ""}


def enable_development_mode(environ_=os.environ, env_file=BASE_DIR / ".env"):
    """Turn DEBUG on for the demo, on the local SQLite file, unless DEBUG is explicitly off.

    An explicit DEBUG=off (in the environment or in .env) marks a production machine: refuse.
    Whatever DATABASE_URL says, the demo only ever touches its own SQLite file.
    """
    if env_file.exists():
        # The same file settings would read, so a production .env is seen here too.
        environ.Env.read_env(env_file, overwrite=False)
    debug = environ_.get("DEBUG")
    if debug is not None and debug.strip().lower() in FALSE_VALUES:
        sys.stderr.write(
            "Refusing to run the demo: DEBUG is explicitly set off, which marks a production "
            "environment. Unset DEBUG (or set DEBUG=on) to run the demo.\n"
        )
        raise SystemExit(2)
    if environ_.get("DATABASE_URL", DEMO_DATABASE_URL) != DEMO_DATABASE_URL:
        sys.stderr.write("The demo ignores DATABASE_URL and uses var/clinic.sqlite3.\n")
    environ_["DATABASE_URL"] = DEMO_DATABASE_URL
    environ_["DEBUG"] = "on"
    environ_.setdefault("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
