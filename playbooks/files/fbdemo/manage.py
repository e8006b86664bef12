#!/usr/bin/env python3
"""Django's command-line utility for the fbdemo project.

Run it as the app user, never as root (a root run would create root-owned log and database
files the service then cannot write):

    runuser -u fbdemo -- python3 /opt/fbdemo/manage.py check --deploy --fail-level WARNING
"""
import os
import sys


def main():
    package = os.path.basename(os.path.dirname(os.path.abspath(__file__)))
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', package + '.settings')
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == '__main__':
    main()
