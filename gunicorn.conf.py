"""gunicorn settings for production: `uv run gunicorn clinic.wsgi` reads this file.

Proxy headers: gunicorn believes X-Forwarded-Proto (and so marks a request HTTPS, which makes
Django send HSTS and skip its HTTPS redirect) only from the addresses in TRUSTED_PROXY_IPS.
Unset, it trusts nobody; gunicorn's own default would trust 127.0.0.1, so any local process could
claim HTTPS. Django reads the same variable and sets SECURE_PROXY_SSL_HEADER only when it is set.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# Comma-separated addresses of the TLS-terminating reverse proxy, e.g. "10.0.0.5".
forwarded_allow_ips = os.environ.get("TRUSTED_PROXY_IPS", "")
# Only X-Forwarded-Proto counts, the one header the proxy is configured to overwrite.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
# No PROXY protocol unless a proxy is trusted.
proxy_allow_ips = forwarded_allow_ips
# A slow client must not hold a worker for long; forms are small.
timeout = 30
graceful_timeout = 30
limit_request_line = 8190
accesslog = "-"
errorlog = "-"
