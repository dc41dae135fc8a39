from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from helpdesk.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it on the last line of output."

    def add_arguments(self, parser):
        parser.add_argument("username", help="Existing user the token acts as.")

    def handle(self, *args, username: str, **options):
        try:
            raw_token = api_token_create(username=username)
        except get_user_model().DoesNotExist as error:
            raise CommandError(
                f"User {username!r} not found. Create it first with 'manage.py createsuperuser'."
            ) from error

        self.stdout.write(f"API token for {username} (shown once, store it now):")
        self.stdout.write(raw_token)
