"""CPU time of public pages against the constant view, in-process: robust to a busy machine.

    uv run python benchmarks/render_profile.py                    # ratios
    uv run python benchmarks/render_profile.py --profile article  # plus a cProfile of one page
    uv run python benchmarks/render_profile.py --admin-rows 100000  # plus the admin submission list

The HTTP benchmark (http_benchmark.py) needs a quiet machine: wrk, gunicorn and Redis share its
cores. This script loads the same demo content into a fresh SQLite file with the same production
settings (`benchmarks.bench_site.settings`, DEBUG off, page cache off, Redis when it answers)
and calls Django's WSGI handler directly, alternating blocks of requests to the constant view
and to each page. Per-request CPU time (`time.process_time`, which other processes' load does
not inflate) gives each page's share of the constant view, the figure the HTTP benchmark reports
as a share of requests/s. Wall time per request is printed beside it.

With `--admin-rows N` it also stores N intake submissions and times the staff submission list
(`/admin/screening/intakesubmission/`) as a clinician with a second factor, with its query count.
Prints figures; it asserts nothing.
"""

import argparse
import cProfile
import importlib
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from copy import copy as shallow_copy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.http_benchmark import CONSTANT, environment, redis_url  # noqa: E402

HOST = "127.0.0.1:8790"


def wsgi_environ(path, cookies=""):
    from urllib.parse import urlsplit

    parts = urlsplit(path)
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8790",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": HOST,
        "HTTP_USER_AGENT": "render_profile",
        "HTTP_COOKIE": cookies,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


class Caller:
    """Calls the WSGI application as gunicorn would, and checks the status."""

    def __init__(self):
        from django.core.wsgi import get_wsgi_application

        self.application = get_wsgi_application()

    def __call__(self, path, cookies=""):
        status = []
        body = self.application(
            wsgi_environ(path, cookies), lambda s, headers, exc_info=None: status.append(s)
        )
        try:
            content = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        if not status[0].startswith("200"):
            raise RuntimeError(f"{path}: {status[0]}")
        return content


def per_request(call, path, count, cookies=""):
    """(CPU seconds, wall seconds) per request over `count` requests."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        call(path, cookies)
    return (time.process_time() - cpu) / count, (time.perf_counter() - wall) / count


def shares(call, pages, *, requests, rounds):
    """Median per-request figures for each page and its share of the constant view."""
    print(f"\n{requests} requests per block, {rounds} rounds, median per request")
    print("| page | CPU ms | wall ms | share of constant (CPU) |\n|---|---|---|---|")
    for path in [CONSTANT, *pages.values()]:
        for _ in range(20):
            call(path)  # warm: fragments, compiled templates, connections
    figures = {name: [] for name in ["constant", *pages]}
    for _ in range(rounds):
        figures["constant"].append(per_request(call, CONSTANT, requests))
        for name, path in pages.items():
            figures[name].append(per_request(call, path, requests))
            figures["constant"].append(per_request(call, CONSTANT, requests))
    medians = {
        name: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        for name, runs in figures.items()
    }
    constant_cpu = medians["constant"][0]
    for name, (cpu, wall) in medians.items():
        print(f"| {name} | {cpu * 1000:.2f} | {wall * 1000:.2f} | {constant_cpu / cpu:.3f} |")


def profile(call, path, requests, limit=35):
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        call(path)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)
    print(out.getvalue())


def admin_list(call, rows):
    """Store `rows` submissions, then time the staff submission list as a clinician."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from screening.models import IntakeSubmission

    existing = IntakeSubmission.objects.count()
    if existing < rows:
        template = IntakeSubmission.objects.order_by("pk").first()
        if template is None:
            sys.exit("the demo stored no submission to copy")
        batch = []
        for number in range(existing, rows):
            copy = shallow_copy(template)
            copy.pk = None
            copy.public_id = uuid.uuid4()
            copy.token = uuid.uuid4()
            copy.email = f"bench{number}@example.org"
            copy.full_name = f"Bench Patient {number}"
            batch.append(copy)
            if len(batch) == 5000:
                IntakeSubmission.objects.bulk_create(batch)
                batch = []
        IntakeSubmission.objects.bulk_create(batch)
    user = User.objects.create_user("bench-clinician", is_staff=True)
    user.groups.add(Group.objects.get(name="Clinical staff"))
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    engine = importlib.import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the model backend
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    cookies = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    path = "/admin/screening/intakesubmission/"
    page = call(path, cookies).decode()
    if "result_list" not in page:
        sys.exit("the submission list did not render for the clinician")
    queries = []

    def record(execute, sql, *args):
        queries.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(record):
        call(path, cookies)
    times = []
    for _ in range(10):
        start = time.perf_counter()
        call(path, cookies)
        times.append(time.perf_counter() - start)
    print(
        f"\nadmin submission list, {IntakeSubmission.objects.count():,} rows, "
        f"{connection.vendor}: {len(queries)} queries, "
        f"{statistics.median(times) * 1000:.0f} ms median of 10 "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
    )
    for sql in queries:
        print(f"  {sql[:110]}")


def prepare(workdir, database_url=None):
    """Production settings on a fresh database with the demo content: (caller, pages, label)."""
    database_url = database_url or f"sqlite:///{workdir}/bench.sqlite3"
    cache_url = redis_url() or "locmemcache://bench"
    os.environ.update(environment(database_url, workdir, page_cache_seconds=0, cache_url=cache_url))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from articles.models import Article
    from clinic.demo import load_demo

    call_command("migrate", verbosity=0)
    load_demo(io.StringIO())
    call_command("collectstatic", verbosity=0, interactive=False)
    slug = (
        Article.objects.published()
        .annotate(n=Count("live_revision__claims__citations"))
        .order_by("-n")
        .values_list("slug", flat=True)
        .first()
    )
    pages = {"article": f"/articles/{slug}/", "intake form (GET)": "/intake/", "home": "/"}
    label = f"cache: {cache_url.split('?')[0]}; database: {database_url.split(':')[0]}"
    return Caller(), pages, label


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per block")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", choices=["article", "intake", "constant", "home"])
    parser.add_argument("--admin-rows", type=int, default=0)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="clinic-render-") as tmp:
        call, pages, label = prepare(Path(tmp), args.database_url)
        print(label)
        shares(call, pages, requests=args.requests, rounds=args.rounds)
        if args.profile:
            path = {**pages, "intake": "/intake/", "constant": CONSTANT}[args.profile]
            profile(call, path, args.requests)
        if args.admin_rows:
            admin_list(call, args.admin_rows)


if __name__ == "__main__":
    main()
