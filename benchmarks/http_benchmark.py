"""HTTP benchmark: the project under gunicorn, as in production, beside a constant 30 KB view.

    uv run python benchmarks/http_benchmark.py                 # SQLite and PostgreSQL
    uv run python benchmarks/http_benchmark.py --db sqlite --duration 5 --repeat 3

For each database it loads the demo content into a fresh database, collects the static files,
and starts gunicorn (production settings: DEBUG off, 2 sync workers, Redis as the cache when it
answers on 127.0.0.1:6379) twice: with the page cache off and on. Each page is driven with
`wrk -t2 -c16` in the same run as the constant view `/bench/constant/` (same middleware, same
size), repeated `--repeat` times; it prints requests/s, p50 and p99 (medians over the repeats)
and the share of the constant view. An intake POST load follows: 20 concurrent clients, each
with its own cookies and form token, then the count of stored rows. Last, each worker's
resident memory after the run (`--memory-requests` requests first, 10,000 by default).

Needs wrk (apt install wrk) and, for PostgreSQL, a server at 127.0.0.1:5432 (DATABASE_URL
postgres://postgres@127.0.0.1:5432/clinic_http_bench by default, dropped and recreated).
Prints figures; it asserts nothing.
"""

import argparse
import http.client
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTANT = "/bench/constant/"
HOST = "127.0.0.1"


def log(message):
    print(message, file=sys.stderr, flush=True)


def redis_url():
    try:
        out = subprocess.run(
            ["redis-cli", "-h", HOST, "ping"], capture_output=True, text=True, timeout=3
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return "redis://127.0.0.1:6379/0" if out.stdout.strip() == "PONG" else None


def environment(database_url, workdir, *, page_cache_seconds, cache_url):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.bench_site.settings",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on loopback: no redirect to HTTPS.
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(workdir / "static"),
        "PAGE_CACHE_SECONDS": str(page_cache_seconds),
        "CACHE_URL": cache_url,
        "CACHE_KEY_PREFIX": f"clinic-bench-{os.getpid()}",
        "INTAKE_RATE_LIMIT": "1000000/h",
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "WARNING",
    }


def manage(env, *args):
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def prepare(database_url, workdir, cache_url):
    env = environment(database_url, workdir, page_cache_seconds=0, cache_url=cache_url)
    if database_url.startswith("postgres"):
        name = urllib.parse.urlparse(database_url).path.lstrip("/")
        subprocess.run(["dropdb", "-h", HOST, "-U", "postgres", "--if-exists", name], check=True)
        subprocess.run(["createdb", "-h", HOST, "-U", "postgres", name], check=True)
    log("loading the demo content…")
    # The demo's own content, loaded straight into this database (`manage.py demo` would use
    # its own SQLite file).
    manage(env, "migrate", "--noinput")
    manage(
        env, "shell", "-c", "import io; from clinic.demo import load_demo; load_demo(io.StringIO())"
    )
    manage(env, "collectstatic", "--noinput")
    slug = manage(
        env,
        "shell",
        "-c",
        "from django.db.models import Count; from articles.models import Article; "
        "print(Article.objects.published().annotate(n=Count('live_revision__claims__citations'))"
        ".order_by('-n').values_list('slug', 'n').first())",
    )
    found = re.search(r"\('([^']+)', (\d+)\)", slug)
    return found.group(1), int(found.group(2))


class Server:
    """gunicorn with the project's gunicorn.conf.py on a free port."""

    def __init__(self, env, port):
        self.port = port
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "clinic.wsgi:application",
                "--config",
                "gunicorn.conf.py",
                "--bind",
                f"{HOST}:{port}",
                "--access-logfile",
                "/dev/null",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(100):
            try:
                status, _body, _headers = get(port, "/healthz")
                if status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start: " + (self.process.stderr.read() or ""))

    def worker_pids(self):
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True
        )
        return [int(pid) for pid in out.stdout.split()]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def get(port, path, headers=None):
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body, response.headers


def wrk(port, path, duration, headers=()):
    """(requests/s, p50 ms, p99 ms) from one wrk run."""
    command = ["wrk", "-t2", "-c16", f"-d{duration}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run(
        [*command, f"http://{HOST}:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        log(f"  warning: {non_2xx.group(1)} non-2xx/3xx responses for {path}")
    return rate, milliseconds(out, "50%"), milliseconds(out, "99%")


def milliseconds(out, percentile):
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure(port, pages, duration, repeat):
    """Median figures per page over `repeat` rounds; each round measures the constant view."""
    rounds = {name: [] for name in ["constant", *pages]}
    for round_number in range(repeat):
        log(f"  round {round_number + 1}/{repeat}")
        rounds["constant"].append(wrk(port, CONSTANT, duration))
        for name, (path, headers) in pages.items():
            rounds[name].append(wrk(port, path, duration, headers))
    return {
        name: tuple(statistics.median(run[i] for run in runs) for i in range(3))
        for name, runs in rounds.items()
    }


def intake_posts(port, clients=20, forms_per_client=5):
    """20 concurrent patients, each with its own cookies and token: (forms/s, p50, p99)."""
    latencies, failures = [], []
    lock = threading.Lock()

    def patient(number):
        for _ in range(forms_per_client):
            _status, body, headers = get(port, "/intake/")
            cookies = {}
            for header in headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                cookies[name] = rest.split(";", 1)[0]
            html = body.decode()
            fields = dict(
                re.findall(r'name="(csrfmiddlewaretoken|token|version)" value="([^"]+)"', html)
            )
            data = {**fields, **FORM, "email": f"patient{number}@example.org"}
            encoded = urllib.parse.urlencode(data, doseq=True)
            connection = http.client.HTTPConnection(HOST, port, timeout=60)
            start = time.perf_counter()
            connection.request(
                "POST",
                "/intake/",
                body=encoded,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                },
            )
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - start
            connection.close()
            with lock:
                latencies.append(elapsed * 1000)
                if response.status != 302:
                    failures.append(response.status)

    threads = [threading.Thread(target=patient, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    latencies.sort()
    if failures:
        log(f"  warning: {len(failures)} intake POSTs were not stored: {sorted(set(failures))}")
    return (
        len(latencies) / seconds,
        latencies[len(latencies) // 2],
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    )


FORM = {
    "website": "",
    "full_name": "Bench Patient",
    "phone": "01632 960123",
    "preferred_contact": "email",
    "consent_contact": "on",
    "consent_privacy": "on",
    "q_date_of_birth": "1985-06-15",
    "q_pain_location": ["lower_back"],
    "q_pain_duration": "over_12_weeks",
    "q_pain_now": "4",
    "q_pain_average": "5",
    "q_impact_daily": "6",
    "q_impact_sleep": "3",
    "q_tried": ["pharmacy_painkillers", "exercise"],
    "q_tried_notes": "Walking helps a little.",
    **{
        f"q_{key}": "no"
        for key in [
            "bladder_bowel",
            "saddle_numbness",
            "leg_weakness",
            "sexual_problems",
            "fever_unwell",
            "health_risks",
            "sudden_severe",
            "cancer_history",
            "weight_loss",
            "injury",
            "night_pain",
            "constant_worsening",
            "morning_stiffness",
            "implanted_device",
            "bleeding",
            "pregnant",
            "seizures",
            "skin_problem",
            "needles_fainting",
            "takes_medicines",
        ]
    },
    "q_anything_else": "",
}


def submission_count(env):
    out = manage(
        env,
        "shell",
        "-c",
        "from screening.models import IntakeSubmission; "
        "print(IntakeSubmission.objects.filter(email__endswith='@example.org').count())",
    )
    return int(out.strip().splitlines()[-1])


def rss_after(server, path, requests, threads=4):
    """Each worker's resident size (MiB) after `requests` more requests to `path`."""

    def client():
        for _ in range(requests // threads):
            get(server.port, path)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    sizes = []
    for pid in server.worker_pids():
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return sizes


def report(title, figures, constant):
    print(f"\n{title}")
    print("| page | req/s | p50 ms | p99 ms | share of constant |\n|---|---|---|---|---|")
    for name, (rate, p50, p99) in figures.items():
        print(f"| {name} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {rate / constant:.3f} |")


def run_database(label, database_url, args, cache_url, port):
    with tempfile.TemporaryDirectory(prefix="clinic-bench-") as tmp:
        workdir = Path(tmp)
        slug, citations = prepare(database_url, workdir, cache_url)
        for seconds in (0, 300):
            env = environment(
                database_url, workdir, page_cache_seconds=seconds, cache_url=cache_url
            )
            server = Server(env, port)
            try:
                _status, home, _headers = get(port, "/")
                css = re.search(r'href="(/static/css/site\.[0-9a-f]+\.css)"', home.decode())
                pages = {
                    f"article ({citations} citations)": (f"/articles/{slug}/", ()),
                    "home": ("/", ()),
                    "article list": ("/articles/", ()),
                    "evidence library": ("/evidence/", ()),
                    "intake form (GET)": ("/intake/", ()),
                    "static CSS (WhiteNoise)": (css.group(1) if css else "/static/", ()),
                    "article, gzip": (f"/articles/{slug}/", ("Accept-Encoding: gzip",)),
                }
                if seconds:
                    # With the cache on, only the pages it serves differ; keep the run short.
                    pages = {
                        name: page
                        for name, page in pages.items()
                        if not name.startswith(("intake", "static"))
                    }
                log(f"{label}, page cache {'on' if seconds else 'off'}")
                figures = measure(port, pages, args.duration, args.repeat)
                state = f"page cache {'on' if seconds else 'off'} (PAGE_CACHE_SECONDS={seconds})"
                report(f"## {label}, {state}", figures, figures["constant"][0])
                if not seconds:
                    log("  intake POST, 20 clients")
                    before = submission_count(env)
                    rate, p50, p99 = intake_posts(port)
                    stored = submission_count(env) - before
                    share = rate / figures["constant"][0]
                    print(
                        f"| intake POST, 20 clients (GET+POST each) | {rate:,.0f} | {p50:.1f} "
                        f"| {p99:.1f} | {share:.3f} |\n\nIntake rows stored by the POST load: "
                        f"{stored} (expected {20 * 5})"
                    )
                    if args.memory_requests:
                        log(f"  {args.memory_requests} requests for the memory figure")
                        sizes = rss_after(server, f"/articles/{slug}/", args.memory_requests)
                        print(
                            f"\nWorker RSS after {args.memory_requests:,} more article requests: "
                            + ", ".join(f"{size:.0f} MiB" for size in sizes)
                        )
            finally:
                server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument(
        "--postgres-url", default="postgres://postgres@127.0.0.1:5432/clinic_http_bench"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    cache_url = redis_url()
    if not cache_url:
        log("Redis is not answering on 127.0.0.1:6379: each worker keeps its own cache")
        cache_url = "locmemcache://bench"
    print(f"gunicorn 2 sync workers, wrk -t2 -c16 -d{args.duration}s, median of {args.repeat}")
    print(f"cache: {cache_url.split('?')[0]}; machine: {os.cpu_count()} CPU cores")
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="clinic-bench-db-") as tmp:
            run_database("SQLite", f"sqlite:///{tmp}/bench.sqlite3", args, cache_url, args.port)
    if args.db in ("postgres", "both"):
        run_database("PostgreSQL", args.postgres_url, args, cache_url, args.port)


if __name__ == "__main__":
    main()
