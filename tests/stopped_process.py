"""A real process of the archive stopped at a named fault point, for a test to SIGKILL it.

The test-only fault point (``nuevonorte.faults``) stops the process with SIGSTOP exactly there;
the test then kills it with SIGKILL, so no ``finally`` block or cleanup of any kind runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: ``nuevonorte worker --drain`` in a process of its own, for ``stopped_at``.
WORKER = """
import json, os
from nuevonorte import create_app
from nuevonorte.jobs import worker
app = create_app(json.loads(os.environ["NN_TEST_CONFIG"]))
worker.drain(app)
"""


def stopped_at(
    script: str,
    app_config: dict[str, Any],
    point: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.Popen[bytes]:
    """Run ``script`` (Python source; the app's configuration is in ``NN_TEST_CONFIG``) until
    it stops at ``point``; returns the stopped process."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        env={
            **os.environ,
            **(env or {}),
            "NN_TEST_CONFIG": json.dumps(app_config),
            "NUEVONORTE_TEST_FAULT": f"{point}=stop",
            "PYTHONPATH": str(ROOT),
        },
        cwd=ROOT,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{proc.pid}/stat") as f:
            if f.read().split(") ", 1)[1].startswith("T"):
                return proc
        assert proc.poll() is None, f"the process ended before reaching {point}"
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"never stopped at {point}")
