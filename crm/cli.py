"""The `crm` command: Django's management commands with the CRM's settings.

`crm demo`, `crm run`, `crm migrate`, ... are all management commands.
"""

import os
import sys


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv or sys.argv)
    return 0
