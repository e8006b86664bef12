"""An email backend that hands messages to the local MTA through /usr/sbin/sendmail.

Django's SMTP backend needs an SMTP listener on the host; dma has none (it is a sendmail-style
MTA: queue and deliver, no daemon). Every Debian MTA (dma, postfix, exim) provides sendmail, so
this backend works with all of them, and the relay credentials stay with the MTA instead of in
the Django settings.
"""
import subprocess

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class SendmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently=False, **kwargs):
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.command = getattr(settings, 'EMAIL_SENDMAIL_COMMAND', '/usr/sbin/sendmail')
        self.timeout = getattr(settings, 'EMAIL_TIMEOUT', None) or 60

    def send_messages(self, email_messages):
        sent = 0
        for message in email_messages:
            if self._send(message):
                sent += 1
        return sent

    def _send(self, message):
        recipients = message.recipients()
        if not recipients:
            return False
        # Recipients on the command line, not `-t`: Django leaves Bcc out of the headers, so `-t`
        # would silently drop Bcc recipients. -i: a line with a single dot does not end the message.
        argv = [self.command, '-i', '-f', message.from_email, '--'] + recipients
        try:
            done = subprocess.run(
                argv,
                input=message.message().as_bytes(linesep='\n'),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=self.timeout,
                check=False,
            )
            if done.returncode != 0:
                output = done.stdout.decode('utf-8', 'replace').strip()
                raise OSError('%s exited with status %d: %s' % (self.command, done.returncode, output))
        except (OSError, subprocess.SubprocessError):
            if not self.fail_silently:
                raise
            return False
        return True
