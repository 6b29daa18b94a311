"""Development mode for `manage.py demo`, switched on before Django reads its settings."""

import os
import sys

DEVELOPMENT_SECRET_KEY = "development-only-insecure-key-never-use-in-production"  # noqa: S105

FALSE_VALUES = {"0", "false", "off", "no", "n", "f", ""}


def enable_development_mode(environ=os.environ):
    """Turn DEBUG on for the demo unless DEBUG is explicitly off, in which case refuse.

    A production environment sets DEBUG off (or leaves it unset with a real SECRET_KEY);
    an explicit off is the signal that this machine must never serve the demo.
    """
    debug = environ.get("DEBUG")
    if debug is not None and debug.strip().lower() in FALSE_VALUES:
        sys.stderr.write(
            "Refusing to run the demo: DEBUG is explicitly set off, which marks a production "
            "environment. Unset DEBUG (or set DEBUG=on) to run the demo.\n"
        )
        raise SystemExit(2)
    environ["DEBUG"] = "on"
    environ.setdefault("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
