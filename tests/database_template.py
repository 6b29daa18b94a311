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
"""

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.creation import BaseDatabaseCreation
from filelock import FileLock

_django_create_test_db = BaseDatabaseCreation.create_test_db


@dataclass
class Template:
    """The migrated copy of one database alias, for this run."""

    folder: Path
    alias: str
    vendor: str
    # Of the PostgreSQL copy. The same in every run, like Django's test database names, so that
    # a run that was killed before it could drop its copy leaves nothing for long: the next run
    # replaces it (the marker file, in this run's own folder, says whether it is this run's).
    name: str

    @property
    def lock(self) -> Path:
        return self.folder / f"migrated-{self.alias}.lock"

    @property
    def marker(self) -> Path:
        """Exists while the copy does."""
        return self.folder / f"migrated-{self.alias}.ready"

    @property
    def sqlite_file(self) -> Path:
        return self.folder / f"migrated-{self.alias}.sqlite3"

    def save(self, connection: BaseDatabaseWrapper) -> None:
        """Copy the freshly migrated test database of `connection`."""
        if self.vendor == "sqlite":
            connection.ensure_connection()
            with contextlib.closing(sqlite3.connect(self.sqlite_file)) as target:
                connection.connection.backup(target)
        else:
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
        if self.vendor == "postgresql" and self.marker.exists():
            with _server_cursor(connection) as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(self.name)}")
        self.marker.unlink(missing_ok=True)
        self.sqlite_file.unlink(missing_ok=True)


def _server_cursor(connection: BaseDatabaseWrapper):
    """A cursor on the server's maintenance database, outside any test database."""
    return connection.creation._nodb_cursor()  # type: ignore[attr-defined]


@contextlib.contextmanager
def migrated_once(
    folder: Path, database_access: Callable[[], contextlib.AbstractContextManager]
) -> Iterator[None]:
    """While open, test databases are created from one migration shared through `folder`;
    `database_access()` allows the removal of the copy at the end (pytest-django's blocker)."""
    made: list[tuple[Template, BaseDatabaseWrapper]] = []

    def create_test_db(self, verbosity=1, autoclobber=False, serialize=None, keepdb=False):
        vendor = self.connection.vendor
        if keepdb or serialize is not None or vendor not in ("sqlite", "postgresql"):
            return _django_create_test_db(self, verbosity, autoclobber, serialize, keepdb)
        name = f"test_{self.connection.settings_dict['NAME']}_migrated"[:63]
        template = Template(folder, self.connection.alias, vendor, name)
        with FileLock(template.lock):
            if not template.marker.exists():
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
