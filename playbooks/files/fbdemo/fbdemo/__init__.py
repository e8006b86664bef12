"""fbdemo: the smallest Django project that exercises a production deployment.

The code under /opt/fbdemo is the same on every host; everything that differs per host or
environment (SECRET_KEY, ALLOWED_HOSTS, ADMINS, mail) is in /etc/opt/fbdemo/settings.py.
"""
