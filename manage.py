#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

from panels.environment import read_env_file


def main():
    """Run a management command with the Panels settings (and the local `.env`, if there is one)."""
    read_env_file()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panels.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
