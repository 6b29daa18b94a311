"""Production settings plus one constant 30 KB view, the yardstick of the HTTP benchmark."""

from clinic.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_site.urls"
