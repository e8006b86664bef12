"""WSGI entry point for gunicorn: `gunicorn fbdemo.wsgi:application`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault('DJANGO_SETTINGS_MODULE', __name__.rpartition('.')[0] + '.settings')

application = get_wsgi_application()
