"""Two app servers on loopback sharing one PostgreSQL and one Redis: the CI check.

    uv run python deploy/check_two_instances.py [--throughput SECONDS]

Starts instance A and instance B (gunicorn, production settings, 2 workers each, on two ports)
and the worker (`manage.py run_worker`) as its own process, all with one DATABASE_URL and one
CACHE_URL (Redis: page cache, sessions, rate limit). Then checks, and exits non-zero if any
check fails:
- a page B has cached disappears from B at once when the article is unpublished by a process
  configured as A (the same `articles.workflow.unpublish` the admin action runs);
- the intake rate limit counts forms sent to A and to B together;
- a session started on A (the intake result page) is readable on B.
With --throughput it also drives A alone, then A and B together, with wrk, and prints both.
Needs PostgreSQL at 127.0.0.1:5432 (database clinic_two_instances, recreated) and Redis at
127.0.0.1:6379 (keys under a prefix of their own).
"""

import argparse
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from http_benchmark import FORM, HOST, Server, get, manage, wrk

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/clinic_two_instances"
FORGET_KEYS = (
    "from django.conf import settings; from django.core.cache import cache; "
    "redis = cache._cache.get_client(write=True); "
    "prefix = settings.CACHES['default']['KEY_PREFIX']; "
    "[redis.delete(key) for key in redis.scan_iter(prefix + ':*')]"
)


def post_form(port, cookies=None):
    """Open the form and send it, as a browser would; returns (status, location, cookies)."""
    import http.client
    import urllib.parse

    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())}
    _status, body, response_headers = get(port, "/intake/", headers)
    cookies = dict(cookies or {})
    for header in response_headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    fields = dict(
        re.findall(r'name="(csrfmiddlewaretoken|token|version)" value="([^"]+)"', body.decode())
    )
    data = {**fields, **FORM, "email": f"patient-{secrets.token_hex(4)}@example.org"}
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    connection.request(
        "POST",
        "/intake/",
        body=urllib.parse.urlencode(data, doseq=True),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        },
    )
    response = connection.getresponse()
    response.read()
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    return response.status, response.headers.get("Location", ""), cookies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--throughput", type=int, default=0, help="seconds of wrk per figure")
    parser.add_argument("--ports", default="8771,8772")
    args = parser.parse_args()
    port_a, port_b = (int(port) for port in args.ports.split(","))
    failures = []

    def check(condition, message):
        print(("ok   " if condition else "FAIL ") + message, flush=True)
        if not condition:
            failures.append(message)

    subprocess.run(
        ["dropdb", "-h", HOST, "-U", "postgres", "--if-exists", "clinic_two_instances"], check=True
    )
    subprocess.run(["createdb", "-h", HOST, "-U", "postgres", "clinic_two_instances"], check=True)
    with tempfile.TemporaryDirectory(prefix="clinic-two-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "clinic.settings",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "false",
            "DATABASE_URL": DATABASE_URL,
            "CACHE_URL": "redis://127.0.0.1:6379/0",
            "CACHE_KEY_PREFIX": f"clinic-two-{os.getpid()}",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "STATIC_ROOT": f"{tmp}/static",
            "PAGE_CACHE_SECONDS": "300",
            "INTAKE_RATE_LIMIT": "3/h",
            "WEB_CONCURRENCY": "2",
            "LOG_LEVEL": "WARNING",
        }
        manage(env, "migrate", "--noinput")
        manage(
            env,
            "shell",
            "-c",
            "import io; from clinic.demo import load_demo; load_demo(io.StringIO())",
        )
        manage(env, "collectstatic", "--noinput")
        slug = manage(
            env,
            "shell",
            "-c",
            "from articles.models import Article; print(Article.objects.published().first().slug)",
        ).split()[-1]
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--interval", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server_a, server_b = Server(env, port_a), Server(env, port_b)
        try:
            url = f"/articles/{slug}/"
            check(get(port_b, url)[0] == 200, f"B serves {url}")
            check(get(port_b, url)[0] == 200, "B serves it again (now from the shared cache)")
            check(get(port_a, url)[0] == 200, "A serves the same page")
            manage(
                env,
                "shell",
                "-c",
                "from django.contrib.auth import get_user_model; from articles import workflow; "
                "from articles.models import Article; "
                f"article = Article.objects.get(slug='{slug}'); "
                "workflow.unpublish(article, by=get_user_model().objects.get(username='reviewer'))",
            )
            check(get(port_b, url)[0] == 404, "after unpublishing through A, B answers 404 at once")
            check(get(port_a, url)[0] == 404, "and so does A")

            status, location, cookies = post_form(port_a)
            check(status == 302 and "/intake/result/" in location, "a form stored through A")
            path = location.replace(f"http://{HOST}:{port_a}", "")
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
            check(
                get(port_b, path, headers)[0] == 200, "its result page opens on B (shared session)"
            )

            statuses = [post_form(port)[0] for port in (port_b, port_a)]
            check(statuses == [302, 302], f"two more forms stored, through B and A: {statuses}")
            status = post_form(port_b)[0]
            check(status == 429, f"the fourth, sent to B, is refused by the shared limit: {status}")

            if args.throughput:
                pages = ["/", "/articles/", "/evidence/"]
                one = sum(wrk(port_a, page, args.throughput)[0] for page in pages) / len(pages)
                results = {}

                def drive(port):
                    results[port] = sum(wrk(port, page, args.throughput)[0] for page in pages)

                threads = [threading.Thread(target=drive, args=(p,)) for p in (port_a, port_b)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                both = sum(results.values()) / len(pages)
                print(
                    f"throughput (home, list, evidence; page cache on): A alone {one:,.0f} req/s, "
                    f"A and B together {both:,.0f} req/s ({both / one:.2f}x) on "
                    f"{os.cpu_count()} cores"
                )
        finally:
            server_a.stop()
            server_b.stop()
            worker.terminate()
            worker.wait(timeout=30)
            # Only this run's keys: the Redis may be shared with others.
            manage(env, "shell", "-c", FORGET_KEYS)
    if failures:
        sys.exit(f"{len(failures)} check(s) failed")
    print("two instances: all checks passed")


if __name__ == "__main__":
    main()
