"""Real database failures, on a private PostgreSQL server (tests/private_postgres.py):

- the intake form under gunicorn while the database is stopped: the patient gets the advice
  their answers call for, with the typed answers, under 503; the result page of a stored form
  still shows its advice; resending once the database is back stores exactly one form;
- the notification worker while the database restarts: it keeps running, and every submission
  gets exactly one email.
"""

import contextlib
import http.cookiejar
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import pytest
from django.db import connection
from django.db.backends.base.creation import TEST_DATABASE_PREFIX
from filelock import FileLock

from tests.conftest import ROUTINE_ANSWERS, kept_between_runs
from tests.database_template import migrations_key, replace_kept

pytest_plugins = ["tests.private_postgres"]

BASE_DIR = Path(__file__).resolve().parent.parent
URGENT_HEADING = "Please get urgent medical help now"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# The site is served over plain HTTP; without a handler of its own, each opener would build an
# HTTPS context and load the system's certificates (about 25 ms, some 40 times a run). This one
# has no certificates: an https:// address would fail verification.
_NO_HTTPS = urllib.request.HTTPSHandler(context=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))


class Browser:
    """One patient's browser: cookies kept, redirects not followed."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect, _NO_HTTPS
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, dict, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)  # noqa: S310 (local)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def form(self, **answers) -> dict:
        status, _headers, page = self.request("/intake/")
        assert status == 200, page[:500]
        return {
            "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[
                1
            ],
            "token": re.search(r'name="token" value="([^"]+)"', page)[1],
            "version": re.search(r'name="version" value="([^"]+)"', page)[1],
            "website": "",
            "full_name": "Alex Faultless",
            "email": "alex@example.com",
            "phone": "01632 960123",
            "preferred_contact": "phone",
            "consent_contact": "on",
            "consent_privacy": "on",
            **ROUTINE_ANSWERS,
            **answers,
        }


@pytest.fixture(scope="session")  # as long as the server: its database outlives any module
def migrated_template(private_postgres, request):
    """A migrated database on the private server, copied for each test's site.

    On PostgreSQL it is a copy of this worker's test database, already migrated (0.5 s instead
    of a 3 s migration). On SQLite the migrations run against the private server, and a dump of
    the result is kept in pytest's cache for the next run, under the same digest as the migrated
    SQLite database (tests/database_template.py)."""
    url = private_postgres.create_database("fault_template")
    if connection.vendor == "postgresql":
        # Made only when a selected test asks for a database; never copy any other database.
        request.getfixturevalue("django_db_setup")
    if connection.vendor == "postgresql" and connection.settings_dict["NAME"].startswith(
        TEST_DATABASE_PREFIX
    ):
        try:
            private_postgres.copy_database(connection.settings_dict, "fault_template")
        except subprocess.CalledProcessError as error:
            # For example, pg_dump refuses a server newer than itself.
            warnings.warn(
                f"could not copy the test database, migrating instead: {error.stderr!r}",
                stacklevel=2,
            )
            private_postgres.drop_database("fault_template")
            url = private_postgres.create_database("fault_template")
        else:
            return "fault_template"
    kept = kept_between_runs(request.config)
    if kept is None:
        migrate(url)
        return "fault_template"
    engine = f"postgresql {private_postgres.bindir.parent.name}"
    dump = kept / f"fault-template-{migrations_key(engine)}.sql"
    # One run at a time reads, or migrates and writes, the kept dump.
    with FileLock(kept / "fault-template.lock"):
        try:
            private_postgres.restore("fault_template", dump.read_bytes())
        except FileNotFoundError:
            pass
        except subprocess.CalledProcessError as error:
            warnings.warn(
                f"could not load the kept dump, migrating: {error.stderr!r}", stacklevel=2
            )
            private_postgres.drop_database("fault_template")
            url = private_postgres.create_database("fault_template")
        else:
            return "fault_template"
        migrate(url)
        sql = private_postgres.dump("fault_template")
        replace_kept(dump, "fault-template-*.sql*", lambda path: path.write_bytes(sql))
    return "fault_template"


def migrate(url: str) -> None:
    """Run the migrations against the database at `url`."""
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "tests.fault_settings"}
    # The system checks run in CI's deployment check; here they would add a third of a second.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0", "--skip-checks"],
        env=env,
        cwd=BASE_DIR,
        check=True,
        timeout=300,
    )


def start_site(server, template: str, name: str, tmp_path: Path, **env_overrides):
    """Copy the migrated database on the private server and serve the site with gunicorn."""
    env = {
        **os.environ,
        "DATABASE_URL": server.create_database(name, template=template),
        "DJANGO_SETTINGS_MODULE": "tests.fault_settings",
        "FAULT_MAIL_DIR": str(tmp_path / "mail"),
        "INTAKE_RATE_LIMIT": "1000/h",
        # Sessions in the database, as on one server: while it is down none can be read.
        "CACHE_URL": "locmemcache://fault",
        **env_overrides,
    }
    port = server.free_port()
    gunicorn = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "clinic.wsgi", "--bind", f"127.0.0.1:{port}"),
            *("--workers", "1", "--timeout", "60", "--log-level", "warning"),
        ],
        env=env,
        cwd=BASE_DIR,
    )
    base = f"http://127.0.0.1:{port}"
    server.wait_for_http(base + "/healthz")
    return env, gunicorn, base


def stop_site(gunicorn: subprocess.Popen) -> None:
    """Kill gunicorn and its worker: the test is over, and even gunicorn's quick stop (SIGQUIT)
    waits half a second. Where Linux does not list a process's children, stop it that way."""
    children = Path(f"/proc/{gunicorn.pid}/task/{gunicorn.pid}/children")
    try:
        workers = [int(pid) for pid in children.read_text().split()]
    except OSError:
        gunicorn.send_signal(signal.SIGQUIT)
    else:
        gunicorn.kill()
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    gunicorn.wait(timeout=30)


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def test_patient_gets_advice_and_keeps_answers_when_the_database_is_down(
    private_postgres, migrated_template, tmp_path
):
    _env, gunicorn, base = start_site(private_postgres, migrated_template, "fault_intake", tmp_path)
    try:
        patient = Browser(base)
        answers = patient.form(q_saddle_numbness="yes", q_tried_notes="Heat pads help.")

        private_postgres.stop()
        try:
            status, headers, page = patient.request("/intake/", answers)
            assert status == 503
            assert "We could not save your form" in page
            assert URGENT_HEADING in page
            assert "Alex Faultless" in page and "Heat pads help." in page
            assert headers.get("Retry-After") == "30"
            # The form page itself still opens, from the copy kept of the questionnaire.
            status, _headers, page = Browser(base).request("/intake/")
            assert status == 200 and 'name="full_name"' in page
        finally:
            private_postgres.start()

        # Sent again once the database is back: stored once, with its result page.
        status, headers, _page = patient.request("/intake/", answers)
        assert status == 302
        result = urllib.parse.urlparse(headers["Location"])
        result_path = f"{result.path}?{result.query}"
        status, _headers, page = patient.request(result_path)
        assert status == 200 and URGENT_HEADING in page
        status, _headers, _page = patient.request("/intake/", answers)  # a double click
        assert status == 302

        # The result page of a stored form, while the database is down again.
        private_postgres.stop()
        try:
            status, _headers, page = patient.request(result_path)
            assert status == 200
            assert URGENT_HEADING in page
            # Without the signed advice (and with no session readable) the page is not found.
            status, _headers, page = patient.request(result.path)
            assert status == 404
        finally:
            private_postgres.start()
        assert private_postgres.query(
            "fault_intake", "SELECT outcome FROM screening_intakesubmission"
        ) == [["urgent"]]
    finally:
        stop_site(gunicorn)


def sent_subjects(mail_dir: Path) -> list[int]:
    """The submission number of each email written by the file-based mail backend."""
    numbers = []
    for path in mail_dir.glob("*"):
        numbers += [int(n) for n in re.findall(r"New intake form #(\d+)", path.read_text())]
    return numbers


def test_worker_survives_database_restarts_and_every_submission_gets_one_email(
    private_postgres, migrated_template, tmp_path
):
    env, gunicorn, base = start_site(
        private_postgres, migrated_template, "fault_worker", tmp_path, TASK_LEASE_SECONDS="10"
    )
    worker_log = tmp_path / "worker.log"
    with worker_log.open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--interval", "0.2", "--no-startup-delay"],
            # The test follows the worker by its warnings, whatever LOG_LEVEL the shell sets.
            env={**env, "LOG_LEVEL": "WARNING"},
            cwd=BASE_DIR,
            stderr=log,
        )
    mail_dir = tmp_path / "mail"
    try:

        def send_forms(count: int) -> None:
            for _ in range(count):
                patient = Browser(base)
                status, _headers, page = patient.request("/intake/", patient.form())
                assert status == 302, page[:300]

        def worker_output() -> str:
            return worker_log.read_text()[-3000:]

        def outages_met() -> int:
            return worker_log.read_text().count("Database unreachable")

        def restart_database() -> None:
            # Down until the worker, polling every 0.2 s, has met the failure.
            met = outages_met()
            private_postgres.stop()
            try:
                deadline = time.monotonic() + 30
                while outages_met() == met:
                    assert worker.poll() is None, f"the worker exited:\n{worker_output()}"
                    assert time.monotonic() < deadline, (
                        f"the worker never met the outage:\n{worker_output()}"
                    )
                    time.sleep(0.05)
            finally:
                private_postgres.start()

        send_forms(6)
        restart_database()
        send_forms(6)
        restart_database()
        send_forms(6)

        submissions = {
            int(pk)
            for (pk,) in private_postgres.query(
                "fault_worker", "SELECT id FROM screening_intakesubmission"
            )
        }
        assert len(submissions) == 18
        # Wait (bounded) for the worker to send everything it was given.
        deadline = time.monotonic() + 120
        while sorted(set(sent_subjects(mail_dir))) != sorted(submissions):
            assert worker.poll() is None, f"the worker exited:\n{worker_output()}"
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert worker.poll() is None, f"the worker exited:\n{worker_output()}"
        sent = sent_subjects(mail_dir)
        assert sorted(sent) == sorted(submissions), (
            f"each submission exactly one email; the worker said:\n{worker_output()}"
        )
        unsent = private_postgres.query(
            "fault_worker",
            "SELECT count(*) FROM screening_intakesubmission WHERE notified_at IS NULL",
        )
        assert unsent == [["0"]]
    finally:
        stop_process(worker)
        stop_site(gunicorn)
