"""The notification worker's waits while the database is down (screening/worker.py).

The real outage, with a PostgreSQL server stopped under a running worker, is in
tests/test_fault_tolerance.py; here the database's answers are scripted, to pin the waits.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from unittest import mock

from django.db import OperationalError
from django_tasks_db.management.commands.db_worker import Worker

from screening import worker as worker_module
from screening.worker import FIRST_WAIT, LONGEST_WAIT, ResilientWorker

DOWN = OperationalError("connection refused")


def new_worker() -> ResilientWorker:
    return ResilientWorker(
        queue_names=["default"],
        interval=0.2,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )


@contextmanager
def scripted_database(poll: Callable[[], None], reconnect: Callable[[], None]) -> Iterator[list]:
    """The parent worker's poll loop and the reconnection attempts do as scripted; yields the
    list of waits the worker slept."""
    waits: list[float] = []
    with (
        mock.patch.object(Worker, "run", lambda self: poll()),
        mock.patch.object(worker_module.time, "sleep", waits.append),
        mock.patch.object(
            worker_module.connections["default"], "ensure_connection", side_effect=reconnect
        ),
        mock.patch.object(ResilientWorker, "requeue_stale_if_due"),
    ):
        yield waits


def test_waits_double_during_an_outage_and_start_short_again_at_the_next():
    # The poll loop fails (an outage), fails again later (a second outage), then ends.
    polls = iter([DOWN, DOWN, None])
    # The first outage answers at the third reconnection, the second at the first.
    answers = iter([DOWN, DOWN, None, None])

    def poll():
        if error := next(polls):
            raise error

    def reconnect():
        if error := next(answers):
            raise error

    with scripted_database(poll, reconnect) as waits:
        new_worker().run()

    assert waits == [FIRST_WAIT, 1.0, 2.0, FIRST_WAIT]
    assert next(polls, "all used") == "all used" and next(answers, "all used") == "all used"


def test_waits_stop_growing_at_the_longest():
    worker = new_worker()
    attempts = 0

    def reconnect():
        nonlocal attempts
        attempts += 1
        if attempts == 8:
            worker.running = False  # stop, as SIGTERM does
        raise DOWN

    def poll():
        raise DOWN

    with scripted_database(poll, reconnect) as waits:
        worker.run()

    assert waits == [FIRST_WAIT, 1.0, 2.0, 4.0] + [LONGEST_WAIT] * 5
