#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    if sys.argv[1:2] == ["demo"]:
        # The demo must run with no environment at all, so it switches development
        # mode on before settings are read (they fail closed without it).
        from clinic.devmode import enable_development_mode

        enable_development_mode()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
