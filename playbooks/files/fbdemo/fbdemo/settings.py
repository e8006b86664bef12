"""Loads the host's settings from /etc/opt/<project>/settings.py.

fleetbook renders that file per host from templates/django/settings.py.ejs. It holds
SECRET_KEY, so it is root:<project> 0640 and lives outside the code; this module only runs it,
so tracebacks name the real file and line.
"""
_settings_file = '/etc/opt/%s/settings.py' % __name__.rpartition('.')[0]

with open(_settings_file, encoding='utf-8') as _f:
    exec(compile(_f.read(), _settings_file, 'exec'))

del _f
