#!/usr/bin/env python
import os
import sys


def main() -> None:
    # Commands run by hand act on the embedded install unless told otherwise; a production
    # deployment sets DJANGO_SETTINGS_MODULE (the servers and the worker default to production).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
