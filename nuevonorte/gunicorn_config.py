"""gunicorn settings that leave no trace of the people who contribute (docs/security.md M17).

Use: ``gunicorn -c python:nuevonorte.gunicorn_config "nuevonorte:create_app()"``.
Override the address with ``GUNICORN_CMD_ARGS="--bind 0.0.0.0:8000"`` or ``--bind``.

- No access log: gunicorn writes none unless ``accesslog`` is set. If someone sets one, the
  format below still has no address (%(h)s) and no user agent (%(a)s).
- gunicorn's own error log writes ``Invalid request from ip=<address>`` for malformed
  requests; ``AddresslessLogger`` rewrites every error-log record to drop any address.
- On start, before any worker runs, and again whenever a worker starts (one replacing a killed
  worker, too), what killed workers left is removed: temporary files and files stored for a
  transaction that never committed or deleted by one that did (``nuevonorte.recovery``;
  docs/security.md F01, T08). Files of living workers are locked and never touched.
- Uploads over poor connections are slow: a generous worker timeout keeps a sync worker from
  being killed mid-upload (a buffering reverse proxy in front is still recommended).
- A request line longer than ``limit_request_line`` (one number with the app's own check,
  ``nuevonorte.request_line``) gets the archive's localized 414 page, not gunicorn's English
  one: the sync worker of ``nuevonorte.gunicorn_worker`` asks the app for it. A reverse proxy
  in front must accept lines at least this long, or it answers first with a page of its own.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

from nuevonorte.request_line import MAX_REQUEST_LINE

bind = "127.0.0.1:8000"
workers = 2
worker_class = "nuevonorte.gunicorn_worker.LocalizedErrorsWorker"
limit_request_line = MAX_REQUEST_LINE
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
    """Remove what interrupted uploads and withdrawals left, before the workers start (F01, T08)."""
    from nuevonorte import create_app
    from nuevonorte.extensions import db

    app = create_app()
    with app.app_context():
        _recover(server.log)
        db.engine.dispose()  # make sure no connection is shared with the workers


def post_worker_init(worker: Any) -> None:
    """A new worker, for example one replacing a killed worker: remove what dead ones left,
    then decode the search index's heaviest words in the background (``search.warmup``)."""
    from nuevonorte.search import warmup

    app = worker.wsgi
    with app.app_context():
        _recover(worker.log)
    warmup.start(app, worker.log)


def _recover(log: Any) -> None:
    from nuevonorte.recovery import recover
    from nuevonorte.storage import get_storage

    try:
        recovered = recover(get_storage())
    except Exception as error:  # e.g. the database is down: serve anyway; `sweep` retries later
        log.warning("Recovery of interrupted transactions failed: %s", type(error).__name__)
        return
    log.info(
        "Removed %d temporary file(s) of interrupted uploads and %d stored file(s) of "
        "interrupted transactions",
        len(recovered.temps),
        len(recovered.files),
    )
