"""A private PostgreSQL server for the fault tests, so they can stop and restart a real database
without touching the shared server the rest of the suite uses.

initdb in a temporary folder, its own port, run as the `postgres` (or `nobody`) user when the
tests run as root (PostgreSQL refuses to run as root). Skipped, with the reason, only when the
server binaries are not installed.
"""

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


def server_binaries() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PrivateServer:
    bindir: Path
    datadir: Path
    port: int
    run_as: list[str]
    log: Path

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.ctl("-w", "-l", str(self.log), "-o", options, "start")

    def stop(self) -> None:
        self.ctl("-w", "-m", "fast", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    # Helpers for tests that start servers of their own against this one.
    free_port = staticmethod(lambda: free_port())
    wait_for_http = staticmethod(lambda url, timeout=60: wait_for_http(url, timeout))

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database, empty or copied from `template`; returns its URL."""
        subprocess.run(
            [
                str(self.bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                *(["-T", template] if template else []),
                name,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.query("postgres", f'DROP DATABASE IF EXISTS "{name}"')

    def copy_database(self, source: dict, name: str) -> None:
        """Copy a database from another PostgreSQL server (Django's settings for it) into the
        empty database `name` here, by pg_dump and psql."""
        dump = self.dump(
            source["NAME"],
            host=source["HOST"] or "localhost",
            port=source["PORT"] or 5432,
            user=source["USER"] or "postgres",
            password=source["PASSWORD"] or "",
        )
        self.restore(name, dump)

    def dump(
        self,
        name: str,
        *,
        host: str = "127.0.0.1",
        port: int | str | None = None,
        user: str = "postgres",
        password: str = "",
    ) -> bytes:
        """The database `name` as SQL (pg_dump), to `restore()` later: on this server, or on
        the one `host` and `port` name."""
        return subprocess.run(
            [
                str(self.bindir / "pg_dump"),
                *("--no-owner", "--no-privileges"),
                *("-h", host, "-p", str(port or self.port), "-U", user, "-d", name),
            ],
            env={**os.environ, "PGPASSWORD": password},
            check=True,
            capture_output=True,
            timeout=120,
        ).stdout

    def restore(self, name: str, dump: bytes) -> None:
        """Load a pg_dump into the empty database `name`; stops at the first error."""
        subprocess.run(
            [
                str(self.bindir / "psql"),
                *("-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", name),
                *("-q", "-v", "ON_ERROR_STOP=1"),
            ],
            input=dump,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def query(self, name: str, sql: str) -> list[list[str]]:
        out = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                name,
                "-At",
                "-F",
                "|",
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        return [line.split("|") for line in out.splitlines() if line]


@pytest.fixture(scope="session")
def private_postgres():
    bindir = server_binaries()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are not installed")
    # Not under pytest's own temporary folder: the server's user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="clinic-private-pg-"))
    datadir, log = root / "data", root / "server.log"
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = "postgres" if _user_exists("postgres") else "nobody"
        shutil.chown(root, user)
        root.chmod(0o700)
        run_as = ["runuser", "-u", user, "--"]
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = PrivateServer(bindir, datadir, free_port(), run_as, log)
    server.start()
    yield server
    with contextlib.suppress(subprocess.CalledProcessError):
        server.stop()
    shutil.rmtree(root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def wait_for_http(url: str, timeout: float = 60) -> None:
    """Wait until a server answers at `url` (any status)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310 (our own local server)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
