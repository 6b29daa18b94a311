"""Faster resets between transactional tests (browser, concurrency and worker tests).

After a transactional test Django empties every table, and with `serialized_rollback` it loads
back the rows the migrations made (permissions, groups, the questionnaires). Done Django's way
that cost about 1 s a test here: 0.4 s working out the flush SQL from the database's list of
tables, and 0.5 s saving some 1,900 rows one `save()` at a time.

The tables do not change during a run, so the flush SQL is worked out once per database; and the
rows are loaded with one bulk insert per model, inside one transaction with constraint checks
deferred and then checked, as Django does. The database ends in the same state: the same rows
with the same keys. Signals are not sent for these rows (Django sends them with `raw=True`,
which every receiver here ignores).

Django loads the rows back when the next such test starts, so until then the database lacks the
groups, permissions and questionnaires that every other test expects: a test that ran next would
fail, and only the order pytest-django gives (transactional tests last) hid it. Here the rows go
back as soon as the flush is done, and the next transactional test finds them already there.
"""

from django.core import serializers
from django.core.management.commands import flush
from django.db import connections, models, transaction
from django.db.backends.base.creation import BaseDatabaseCreation
from django.test import TransactionTestCase

_django_sql_flush = flush.sql_flush
_flush_sql: dict[tuple, list[str]] = {}
_rows: dict[tuple[str, int], list[tuple[type[models.Model], list[models.Model]]]] = {}
_django_fixture_teardown = TransactionTestCase._fixture_teardown
# Databases whose rows are, since the last flush, exactly the serialized ones.
_restored: set[str] = set()


def _remembered_sql_flush(style, connection, reset_sequences=True, allow_cascade=False):
    """Django's flush SQL for this database, worked out on the first flush only; on
    PostgreSQL, `DELETE`s where they do the same job (see `_postgresql_deletes`)."""
    key = (connection.alias, connection.settings_dict["NAME"], reset_sequences, allow_cascade)
    if key not in _flush_sql:
        deletes = _postgresql_deletes(connection) if not reset_sequences else None
        _flush_sql[key] = deletes or _django_sql_flush(
            style, connection, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
    return _flush_sql[key]


def _postgresql_deletes(connection) -> list[str] | None:
    """A `DELETE` of every table in one transaction, instead of PostgreSQL's `TRUNCATE`.

    `TRUNCATE` gives every table a new file on disk: some 0.2 s of the server's time for the
    40-odd tables here, after each transactional test. Deleting the few rows a test leaves takes
    about 10 ms. Django's foreign keys are checked at commit (DEFERRABLE INITIALLY DEFERRED), so
    the order does not matter; if any key is not, Django's own flush SQL is used. Neither resets
    the sequences (Django asks for that only with `reset_sequences`, handled by its SQL).
    """
    if connection.vendor != "postgresql":
        return None
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
            "AND NOT (condeferrable AND condeferred) AND conrelid::regclass::text = ANY(%s)",
            [[connection.ops.quote_name(table) for table in tables] + tables],
        )
        (immediate_keys,) = cursor.fetchone()
    if immediate_keys:
        return None
    # Table names from the database itself, quoted.
    return [f"DELETE FROM {connection.ops.quote_name(table)};" for table in tables]  # noqa: S608


def _rows_by_model(alias: str, data: str):
    """The serialized rows as unsaved instances grouped by model, many-to-many rows last."""
    key = (alias, hash(data))
    if key in _rows:
        return _rows[key]
    by_model: dict[type[models.Model], list[models.Model]] = {}
    links: dict[type[models.Model], list[models.Model]] = {}
    for deserialized in serializers.deserialize("json", data, using=alias):
        instance = deserialized.object
        by_model.setdefault(type(instance), []).append(instance)
        for name, related_pks in (deserialized.m2m_data or {}).items():
            field = instance._meta.get_field(name)
            through = field.remote_field.through
            source = through._meta.get_field(field.m2m_field_name()).attname
            target = through._meta.get_field(field.m2m_reverse_field_name()).attname
            links.setdefault(through, []).extend(
                through(**{source: instance.pk, target: pk}) for pk in related_pks
            )
    _rows[key] = [*by_model.items(), *links.items()]
    return _rows[key]


def _bulk_deserialize(self, data):
    """Load rows serialized by `serialize_db_to_string`, one bulk insert per model."""
    alias = self.connection.alias
    if alias in _restored:
        # Put back when the last transactional test ended; the test starting may change them.
        _restored.discard(alias)
        return
    groups = _rows_by_model(alias, data)
    with transaction.atomic(using=alias):
        with self.connection.constraint_checks_disabled():
            for model, instances in groups:
                # The first test to load them finds the rows still there from the migrations.
                model._base_manager.using(alias).bulk_create(instances, ignore_conflicts=True)
        self.connection.check_constraints(
            table_names=[model._meta.db_table for model, _instances in groups]
        )


def _teardown_and_restore(self):
    """Django's teardown of a transactional test (it empties the tables), then the rows the
    migrations made back at once.

    Every transactional test's flush then leaves out the post_migrate signal, as Django's own
    does for a `serialized_rollback` test: after a plain one it would recreate content types and
    permissions under new keys, which the serialized rows do not match."""
    aliases = self._databases_names(include_mirrors=False)
    restorable = [
        alias for alias in aliases if hasattr(connections[alias], "_test_serialized_contents")
    ]
    _restored.difference_update(aliases)  # whatever happens next, they are no longer as restored
    serialized_rollback = self.serialized_rollback
    self.serialized_rollback = bool(restorable) or serialized_rollback
    try:
        _django_fixture_teardown(self)
    finally:
        self.serialized_rollback = serialized_rollback
    for alias in restorable:
        connection = connections[alias]
        connection.creation.deserialize_db_from_string(connection._test_serialized_contents)
        _restored.add(alias)


def install() -> None:
    """Use the faster flush SQL and row loading for the rest of the test run, and restore the
    migrated rows right after each flush."""
    flush.sql_flush = _remembered_sql_flush
    BaseDatabaseCreation.deserialize_db_from_string = _bulk_deserialize
    TransactionTestCase._fixture_teardown = _teardown_and_restore
