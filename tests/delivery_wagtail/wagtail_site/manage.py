#!/usr/bin/env python
"""Django entry point of the Wagtail test site (runs in .venv-wagtail, never in Charter's venv)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lumen.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
