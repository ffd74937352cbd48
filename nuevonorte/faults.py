"""Named points where a test can stop a real process, to kill it there (docs/security.md T08).

``point(name)`` does nothing unless the app is TESTING and the environment variable
``NUEVONORTE_TEST_FAULT`` names this point: ``<name>=stop`` stops the process (SIGSTOP) so that
the test can SIGKILL it at exactly that step; ``<name>=sleep:<seconds>`` makes it slow there.
"""

from __future__ import annotations

import os
import signal
import time

from flask import current_app, has_app_context

ENV = "NUEVONORTE_TEST_FAULT"


def point(name: str) -> None:
    """Stop or delay here if a test asked for it (never in production: TESTING only)."""
    wanted = os.environ.get(ENV, "")
    if not wanted.startswith(f"{name}=") or not has_app_context() or not current_app.config["TESTING"]:
        return
    action = wanted.split("=", 1)[1]
    if action == "stop":
        os.kill(os.getpid(), signal.SIGSTOP)
    elif action.startswith("sleep:"):
        time.sleep(float(action.split(":", 1)[1]))
