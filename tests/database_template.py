"""One migration per test run, however many pytest-xdist workers share it.

Migrating a test database costs about 4 s here, most of it Django rendering the models' states
between migrations, and every worker used to do it. Now the first worker to need a database
migrates it as Django always does and keeps a copy of the result; each other worker copies that
instead, in a tenth of a second, as Django's own parallel test runner clones its test database:
- SQLite: the migrated database is backed up into a file, and from it into the other worker's
  database;
- PostgreSQL: `CREATE DATABASE … TEMPLATE` from a copy of the first worker's database (a
  database cannot be a template while a worker is connected to it).

A file lock in the folder the workers share makes the others wait while the first migrates.
The copy is removed when the worker that made it finishes; a worker that first needs its
database after that migrates its own.

On SQLite the copy is also kept between runs, in pytest's cache folder, under a digest of
everything the migrated database depends on (`migrations_key()`: every installed app's
migrations, the project's code, Django's and SQLite's versions). The next run, or a run of one
test module, starts from it instead of migrating; any change to those files migrates afresh,
and so does `--create-db`.
"""

import contextlib
import functools
import hashlib
import importlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.creation import BaseDatabaseCreation
from django.db.migrations.loader import MigrationLoader
from filelock import FileLock

_django_create_test_db = BaseDatabaseCreation.create_test_db
BASE_DIR = Path(__file__).resolve().parent.parent
# Not part of what a migrated database depends on.
_NOT_PROJECT_CODE = {".venv", "node_modules", ".git", ".pytest_cache", "benchmarks"}


@functools.cache
def migrations_key(engine: str) -> str:
    """A digest of what a database migrated on `engine` (its name and version) depends on:
    `key_files()` and Django's version."""
    digest = hashlib.sha256(f"{engine}\n{django.get_version()}\n".encode())
    for path in key_files():
        digest.update(f"{path.relative_to(path.anchor)}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def key_files() -> list[Path]:
    """The migration files of every installed app, and the project's own Python files (data
    migrations import them; test modules are left out)."""
    files = set()
    for app_config in apps.get_app_configs():
        module_name, _explicit = MigrationLoader.migrations_module(app_config.label)
        try:
            module = importlib.import_module(module_name) if module_name else None
        except ImportError:
            module = None
        if module is not None and getattr(module, "__file__", None):
            files.update(Path(module.__file__).parent.glob("*.py"))
    for folder, subfolders, names in os.walk(BASE_DIR):
        subfolders[:] = sorted(set(subfolders) - _NOT_PROJECT_CODE)
        files.update(
            Path(folder) / name
            for name in names
            if name.endswith(".py") and not (name.startswith("test_") and folder.endswith("tests"))
        )
    return sorted(files)


def replace_kept(target: Path, older: str, write: Callable[[Path], None]) -> None:
    """Write `target` whole under a temporary name (`write(path)`), remove the files beside it
    that match the glob `older` (earlier copies, and any a killed run left half written), then
    rename it: a file by the target's name is always complete. Call it under the folder's lock.
    """
    partial = target.with_name(f"{target.name}.{os.getpid()}")
    write(partial)
    for path in target.parent.glob(older):
        if path != partial:
            path.unlink(missing_ok=True)
    partial.replace(target)


@dataclass
class Template:
    """The migrated copy of one database alias, for this run (and on SQLite, when `kept`
    names a folder, for later runs too)."""

    folder: Path
    alias: str
    vendor: str
    # Of the PostgreSQL copy. The same in every run, like Django's test database names, so that
    # a run that was killed before it could drop its copy leaves nothing for long: the next run
    # replaces it (the marker file, in this run's own folder, says whether it is this run's).
    name: str
    kept: Path | None = None

    @property
    def lock(self) -> Path:
        return (self.kept or self.folder) / f"migrated-{self.alias}.lock"

    @property
    def marker(self) -> Path:
        """Exists while the PostgreSQL copy does."""
        return self.folder / f"migrated-{self.alias}.ready"

    @property
    def sqlite_file(self) -> Path:
        if self.kept is None:
            return self.folder / f"migrated-{self.alias}.sqlite3"
        key = migrations_key(f"sqlite {sqlite3.sqlite_version}")
        return self.kept / f"migrated-{self.alias}-{key}.sqlite3"

    def ready(self) -> bool:
        """Whether there is a migrated copy to start from."""
        if self.vendor == "sqlite":
            return self.sqlite_file.exists()
        return self.marker.exists()

    def save(self, connection: BaseDatabaseWrapper) -> None:
        """Copy the freshly migrated test database of `connection`."""
        if self.vendor == "sqlite":
            connection.ensure_connection()

            def backup(path: Path) -> None:
                with contextlib.closing(sqlite3.connect(path)) as target:
                    connection.connection.backup(target)

            replace_kept(self.sqlite_file, f"migrated-{self.alias}-*.sqlite3*", backup)
            return
        test_name = connection.settings_dict["NAME"]
        connection.close()
        with _server_cursor(connection) as cursor:
            quote = connection.ops.quote_name
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(self.name)}")
            cursor.execute(f"CREATE DATABASE {quote(self.name)} TEMPLATE {quote(test_name)}")
        self.marker.touch()

    def copy_into(self, creation: BaseDatabaseCreation) -> str:
        """Make `creation`'s test database a copy of the migrated one; returns its name."""
        connection = creation.connection
        test_name = creation._get_test_db_name()
        if self.vendor == "postgresql":
            with _server_cursor(connection) as cursor:
                quote = connection.ops.quote_name
                cursor.execute(f"DROP DATABASE IF EXISTS {quote(test_name)}")
                cursor.execute(f"CREATE DATABASE {quote(test_name)} TEMPLATE {quote(self.name)}")
        else:
            # Removes an old file-based test database; an in-memory one needs nothing.
            creation._create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        connection.close()
        settings.DATABASES[connection.alias]["NAME"] = test_name
        connection.settings_dict["NAME"] = test_name
        if self.vendor == "sqlite":
            connection.ensure_connection()
            with contextlib.closing(sqlite3.connect(self.sqlite_file)) as source:
                source.backup(connection.connection)
        return test_name

    def remove(self, connection: BaseDatabaseWrapper) -> None:
        """Drop this run's copy (a kept SQLite file stays for the next run)."""
        if self.vendor == "postgresql" and self.marker.exists():
            with _server_cursor(connection) as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(self.name)}")
        self.marker.unlink(missing_ok=True)
        if self.kept is None:
            self.sqlite_file.unlink(missing_ok=True)


def _server_cursor(connection: BaseDatabaseWrapper):
    """A cursor on the server's maintenance database, outside any test database."""
    return connection.creation._nodb_cursor()  # type: ignore[attr-defined]


@contextlib.contextmanager
def migrated_once(
    folder: Path,
    database_access: Callable[[], contextlib.AbstractContextManager],
    kept: Path | None = None,
) -> Iterator[None]:
    """While open, test databases are created from one migration shared through `folder`
    (and on SQLite, kept between runs in `kept` if given); `database_access()` allows the
    removal of the copy at the end (pytest-django's blocker)."""
    made: list[tuple[Template, BaseDatabaseWrapper]] = []

    def create_test_db(self, verbosity=1, autoclobber=False, serialize=None, keepdb=False):
        vendor = self.connection.vendor
        if keepdb or serialize is not None or vendor not in ("sqlite", "postgresql"):
            return _django_create_test_db(self, verbosity, autoclobber, serialize, keepdb)
        name = f"test_{self.connection.settings_dict['NAME']}_migrated"[:63]
        template = Template(
            folder, self.connection.alias, vendor, name, kept if vendor == "sqlite" else None
        )
        with FileLock(template.lock):
            if not template.ready():
                test_name = _django_create_test_db(self, verbosity, autoclobber, keepdb=keepdb)
                template.save(self.connection)
                made.append((template, self.connection))
                return test_name
            test_name = template.copy_into(self)
        # As Django's create_test_db ends (setup_databases serializes the rows afterwards).
        call_command("createcachetable", database=self.connection.alias)
        self.connection.ensure_connection()
        return test_name

    BaseDatabaseCreation.create_test_db = create_test_db  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseDatabaseCreation.create_test_db = _django_create_test_db  # type: ignore[method-assign]
        for template, connection in made:
            with FileLock(template.lock), database_access():
                template.remove(connection)
