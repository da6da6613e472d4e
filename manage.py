#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that only read the code: they never serve a request or touch anyone's data, so
# they run on a fresh checkout without production secrets (`makemigrations --check` in
# tooling and CI). An explicit DJANGO_DEBUG=0 still gets the production refusal.
CODE_ONLY_COMMANDS = {"makemigrations", "help"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if sys.argv[1:2] and sys.argv[1] in CODE_ONLY_COMMANDS:
        os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
