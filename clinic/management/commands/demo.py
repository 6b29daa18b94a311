"""`manage.py demo [addrport]`: migrate, load demo content once, create staff accounts, serve."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from clinic.demo import load_demo


class Command(BaseCommand):
    help = (
        "Run the demo site: migrate the local database, load the demo articles and studies "
        "(once), create demo staff accounts and print their passwords, then serve."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "addrport", nargs="?", default="127.0.0.1:8000", help="Address and port to serve on."
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare the demo but do not start a server."
        )

    def handle(self, *args, addrport, no_serve, **options):
        if not settings.DEBUG:
            raise CommandError(
                "The demo runs only in development mode (DEBUG on). Refusing to touch what "
                "looks like a production configuration."
            )
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(self.style.SUCCESS("Database migrated."))
        passwords = load_demo(stdout=self.stdout)
        self.stdout.write("Demo staff accounts (passwords are new on every run):")
        for username, (password, role) in passwords.items():
            self.stdout.write(f"  {username:<10} {password:<14} {role}")
        if no_serve:
            return
        self.stdout.write(f"Admin: http://{addrport}/admin/   Site: http://{addrport}/")
        call_command("runserver", addrport, use_reloader=False)
