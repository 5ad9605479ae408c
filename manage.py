#!/usr/bin/env python
import os
import sys

# Commands that only compare the models with the migration files (and write new ones): they
# read no data, secret or key, so they run with the development defaults where production's
# settings would refuse to start, e.g. `manage.py makemigrations --check` on a fresh clone.
MODELS_ONLY_COMMANDS = {"makemigrations"}
# What Django's command line answers without any settings.
NO_SETTINGS_NEEDED = {"help", "--help", "-h", "version", "--version"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkedin_crm.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command in MODELS_ONLY_COMMANDS:
        os.environ.setdefault("DEBUG", "1")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # The settings refuse to start without what production needs (SECRET_KEY, ...).
        # Django's command line would swallow that and fail later with "Models aren't loaded
        # yet"; say why instead.
        settings.INSTALLED_APPS  # noqa: B018
    except ImproperlyConfigured as error:
        if command not in NO_SETTINGS_NEEDED:
            sys.exit(f"manage.py: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
