"""gunicorn settings that leave no trace of the people who contribute (SECURITY.md M17).

Use: ``gunicorn -c python:nuevonorte.gunicorn_config "nuevonorte:create_app()"``.
Override the address with ``GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000"`` or ``--bind``.

- No access log: gunicorn writes none unless ``accesslog`` is set. If someone sets one, the
  format below still has no address (%(h)s) and no user agent (%(a)s).
- gunicorn's own error log writes ``Invalid request from ip=<address>`` for malformed
  requests; ``AddresslessLogger`` rewrites every error-log record to drop any address.
- On start, before any worker runs, temporary files of uploads interrupted by a killed worker
  are removed (``on_starting``; SECURITY.md F01). Run ``nuevonorte sweep`` from cron as well.
- Uploads over poor connections are slow: a generous worker timeout keeps a sync worker from
  being killed mid-upload (a buffering reverse proxy in front is still recommended).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

bind = "127.0.0.1:8000"
workers = 2
timeout = 300
accesslog = None
access_log_format = '"%(r)s" %(s)s %(b)s %(L)s'
errorlog = "-"
loglevel = "info"
# Never trust X-Forwarded-For for anything: the app does not use addresses at all.
forwarded_allow_ips = ""

_IPV4 = r"\b\d{1,3}(?:\.\d{1,3}){3}\b"
_IPV6 = r"\b(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}\b"
_ADDRESS = re.compile(rf"(?:ip=)?(?:{_IPV4}|{_IPV6})")


class _DropAddresses(logging.Filter):
    """Rewrite a log record so that no IP address survives in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Invalid request from ip="):
            message = "Invalid request: " + message.split(": ", 1)[-1]
        # Keep the address gunicorn listens on readable only in its own start-up line.
        if not message.startswith(("Listening at:", "Starting gunicorn")):
            message = _ADDRESS.sub("[address removed]", message)
        record.msg, record.args = message, ()
        return True


class AddresslessLogger(Logger):
    """gunicorn's logger with the address filter on every error-log handler."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.addFilter(_DropAddresses())


logger_class = AddresslessLogger


def on_starting(server: Any) -> None:
    """Remove temporary files left by interrupted uploads before the workers start (F01)."""
    from nuevonorte import create_app
    from nuevonorte.extensions import db
    from nuevonorte.storage import get_storage

    app = create_app()
    with app.app_context():
        removed = get_storage().sweep_temp_files(app.config["TEMP_FILE_MAX_AGE_SECONDS"])
        db.engine.dispose()  # nothing was opened; make sure nothing is shared with the workers
    server.log.info("Removed %d temporary file(s) of interrupted uploads", len(removed))
