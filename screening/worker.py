"""Keeping the notification worker going through database restarts and crashes.

- `requeue_stale_tasks()`: a task left RUNNING longer than the lease (its worker died, or the
  database went away while it ran) goes back to READY, so another run picks it up. The task
  itself claims its submission before sending (`screening.tasks.claim`), so a requeue never
  sends an email that already went out.
- `ResilientWorker`: django-tasks-db's worker, which exits on the first OperationalError, wrapped
  so that it waits for the database and carries on, and requeues stale tasks now and then.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)
# Waits between reconnection attempts: short at first, doubling, never more than the longest.
FIRST_WAIT = 0.5
LONGEST_WAIT = 5.0
# A task the database interrupted runs again after this pause.
OUTAGE_RETRY_DELAY = timedelta(seconds=2)


def task_lease() -> timedelta:
    return timedelta(seconds=settings.TASK_LEASE_SECONDS)


def requeue_stale_tasks(now=None) -> int:
    """Put tasks RUNNING for longer than the lease back in the queue; returns how many."""
    now = now or timezone.now()
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=now - task_lease()
    ).update(status=TaskResultStatus.READY, started_at=None, run_after=now)


def close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except Exception:
            logger.debug("Closing a broken connection failed", exc_info=True)


def is_database_outage(exception_class_path: str) -> bool:
    return exception_class_path in {
        f"{error.__module__}.{error.__qualname__}" for error in DATABASE_DOWN
    }


def requeue_task(task_id) -> int:
    """Queue a task again that the database interrupted (it never finished, or failed only
    because the database went away)."""
    return (
        DBTaskResult.objects.filter(pk=task_id)
        .exclude(status=TaskResultStatus.SUCCESSFUL)
        .update(
            status=TaskResultStatus.READY,
            started_at=None,
            finished_at=None,
            run_after=timezone.now() + OUTAGE_RETRY_DELAY,
        )
    )


class ResilientWorker(Worker):
    """A db_worker that outlives database restarts instead of exiting with OperationalError.

    A task the outage interrupted is queued again as soon as the database answers, rather than
    waiting for its lease: it stays RUNNING when the worker could not even record the failure,
    and is FAILED with a database error when it could.
    """

    _next_requeue = 0.0
    interrupted_task_id = None

    def run(self) -> None:
        wait = FIRST_WAIT
        while self.running:
            started = time.monotonic()
            try:
                self.requeue_interrupted()
                self.requeue_stale_if_due()
                super().run()
                return  # --batch or --max-tasks finished normally
            except DATABASE_DOWN:
                if time.monotonic() - started > wait:
                    # It ran for longer than it would now wait before this failure: a new
                    # outage, met with a short wait again. A failure that comes back at once
                    # keeps doubling the wait.
                    wait = FIRST_WAIT
                logger.warning("Database unreachable; worker retries in %.1f s", wait)
                close_connections()
                time.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self.interrupted_task_id = db_task_result.id
        super().run_task(db_task_result)  # raises if even the failure could not be recorded
        if db_task_result.status == TaskResultStatus.FAILED and is_database_outage(
            db_task_result.exception_class_path
        ):
            # The failure was recorded, so the database is back: run the task again.
            self.requeue_interrupted()
        self.interrupted_task_id = None

    def requeue_interrupted(self) -> None:
        if self.interrupted_task_id is not None:
            close_old_connections()
            if requeue_task(self.interrupted_task_id):
                logger.warning("Requeued task %s after a database outage", self.interrupted_task_id)
            self.interrupted_task_id = None

    def requeue_stale_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_requeue:
            return
        close_old_connections()
        if count := requeue_stale_tasks():
            logger.warning("Requeued %s task(s) left running past their lease", count)
        self._next_requeue = now + settings.TASK_LEASE_SECONDS / 2
