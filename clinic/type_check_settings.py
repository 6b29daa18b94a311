"""Settings the mypy Django plugin loads (`[tool.django-stubs]` in pyproject.toml).

Production settings with a placeholder key, like tests/settings.py. The plugin cannot load
`tests.settings`: textstat's wheel installs a top-level `tests` package into site-packages, and the
plugin appends the working directory to sys.path after site-packages, so `tests` resolves to
textstat's package and mypy stops with "No module named 'tests.settings'".
"""

import os

os.environ.setdefault("SECRET_KEY", "type-check-only-secret-key-not-for-any-real-site")

from clinic.settings import *  # noqa: F403
