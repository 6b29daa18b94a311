"""`manage.py run_worker`: django-tasks-db's `db_worker`, made to survive database restarts.

Same options as `db_worker` (except --reload). Where `db_worker` exits on the first
OperationalError, this one waits for the database and carries on, and at start and after each
reconnection it requeues tasks left RUNNING past their lease (`screening.worker`). Run it under a
supervisor that restarts it anyway (deploy/clinic-worker.service).
"""

from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from screening.worker import ResilientWorker


class Command(DBWorkerCommand):
    help = "Run the background task worker; it survives database restarts."

    def handle(
        self,
        *,
        verbosity,
        queue_name,
        interval,
        batch,
        backend_name,
        startup_delay,
        max_tasks,
        worker_id,
        exclude_queues,
        **options,
    ):
        self.configure_logging(verbosity)
        worker = ResilientWorker(
            queue_names=queue_name.split(","),
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=exclude_queues.split(",") if exclude_queues else [],
        )
        worker.configure_signals()
        worker.run()
