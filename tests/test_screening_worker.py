"""The notification worker's waits while the database is down (screening/worker.py).

The real outage, with a PostgreSQL server stopped under a running worker, is in
tests/test_fault_tolerance.py; here the database's answers and the clock are scripted, to pin
the waits.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
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
def scripted(worker: ResilientWorker, polls: list[tuple[float, Exception | None]]) -> Iterator:
    """Each run of the parent worker's poll loop lasts the given seconds, then fails with the
    error (or ends, with None); after the last, the worker is stopped. Yields the waits slept."""
    clock = SimpleNamespace(now=1000.0)
    waits: list[float] = []
    script = iter(polls)

    def sleep(seconds):
        waits.append(seconds)
        clock.now += seconds

    def poll(self):
        seconds, error = next(script, (0, None))
        clock.now += seconds
        if error is None:
            worker.running = False
            return
        raise error

    fake_time = SimpleNamespace(monotonic=lambda: clock.now, sleep=sleep)
    with (
        mock.patch.object(Worker, "run", poll),
        mock.patch.object(worker_module, "time", fake_time),
        mock.patch.object(worker_module, "close_connections"),
        mock.patch.object(ResilientWorker, "requeue_stale_if_due"),
    ):
        yield waits


def test_waits_double_while_the_database_stays_down():
    worker = new_worker()
    with scripted(worker, [(0.01, DOWN)] * 7) as waits:
        worker.run()
    assert waits == [FIRST_WAIT, 1.0, 2.0, 4.0, LONGEST_WAIT, LONGEST_WAIT, LONGEST_WAIT]


def test_an_outage_after_a_while_of_work_starts_again_from_a_short_wait():
    worker = new_worker()
    # Down (three failed attempts), then up for a minute, then down again.
    polls = [(0.01, DOWN), (0.01, DOWN), (0.01, DOWN), (60.0, DOWN), (0.01, DOWN)]
    with scripted(worker, polls) as waits:
        worker.run()
    assert waits == [FIRST_WAIT, 1.0, 2.0, FIRST_WAIT, 1.0]


def test_a_failure_that_takes_its_time_is_retried_after_a_short_wait():
    worker = new_worker()
    # Each attempt fails after 3 s (a statement timeout, say): one attempt every 3.5 s.
    with scripted(worker, [(3.0, DOWN)] * 4) as waits:
        worker.run()
    assert waits == [FIRST_WAIT] * 4
