"""A web worker decodes the public index's heaviest postings before visitors ask for them.

``whoosh_internals.warm`` says what is decoded and why. Here is when: a web worker starts a
thread of its own (``start``, from gunicorn's ``post_worker_init``), which warms the public
index at once, and again whenever a search finds that the index has moved on (a publish's new
segment, a purge's copy, a merge, a rebuild's swap: ``poke``). Only segments it has not warmed
are decoded, so after a publish that is one small segment. ``search_warm_mb`` is the budget
(0: never). Nothing is written anywhere; a failure (an index being rebuilt, a damaged file)
is logged and tried again at the next change, and visitors are answered as without it.

The thread ends a pass only when the index did not change during it: a pass that raced a
purge opens the index again, which drops the cache entries of the segments gone.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask

from nuevonorte.search import store
from nuevonorte.search.schema import QUERY_FIELDS
from nuevonorte.search.whoosh_internals import warm

log = logging.getLogger(__name__)

#: Seconds between looks at the index when no search pokes the thread.
IDLE_SECONDS = 30.0


class Warmer:
    """One process's warm-up thread for one index folder."""

    def __init__(self, root: Path, budget: int, logger: Any = log) -> None:
        self.root = root
        self.budget = budget
        self.log = logger  # gunicorn's error log in a web worker
        self.wake = threading.Event()
        self.warmed: str | None = None  # the index version last warmed whole
        self.thread = threading.Thread(target=self._run, name="nn-search-warmup", daemon=True)

    def _version(self) -> str | None:
        try:
            return store.version(store.PUBLIC, self.root)
        except OSError:
            return None

    def _moved_on(self, version: str) -> bool:
        return self._version() != version

    def _run(self) -> None:
        while True:
            self.wake.wait(IDLE_SECONDS)
            self.wake.clear()
            try:
                self.warm_now()
            except Exception as error:  # never let the thread end: the next change tries again
                self.log.warning("Search warm-up failed: %s", type(error).__name__)

    def warm_now(self) -> bool:
        """Warm the index's current version unless already done; whether it ends warmed."""
        for _ in range(store.OPEN_ATTEMPTS):
            version = self._version()
            if version is None or version == self.warmed:
                return version is not None
            try:
                s = store.open_searcher(store.PUBLIC, self.root)
            except store.IndexUnavailable:
                return False
            start = time.monotonic()
            try:
                with store.abandoned_files_ignored():
                    decoded = warm.warm(s, QUERY_FIELDS, self.budget, stop=partial(self._moved_on, version))
            except Exception as error:  # a damaged or replaced segment: visitors are served anyway
                self.log.warning("Search warm-up stopped: %s", type(error).__name__)
                return False
            finally:
                store.close_quietly(s)
            if decoded:
                self.log.info(
                    "Search warm-up: %d words of the public index decoded in %.1f s",
                    decoded,
                    time.monotonic() - start,
                )
            if self._version() == version:  # else it raced a change: open the new version
                self.warmed = version
                return True
        return False


#: By the configured index folder, as written in the configuration.
_warmers: dict[str, Warmer] = {}
_lock = threading.Lock()


def start(app: Flask, logger: Any = log) -> Warmer | None:
    """Start this process's warm-up of ``app``'s public index (None when ``search_warm_mb`` is
    0); once per index folder and process. ``logger``: where a pass is reported."""
    budget = int(app.config.get("SEARCH_WARM_BYTES", 0))
    if budget <= 0:
        return None
    root = str(app.config["INDEX_DIR"])
    with _lock:
        warmer = _warmers.get(root)
        if warmer is None:
            warmer = _warmers[root] = Warmer(Path(root), budget, logger)
            warmer.thread.start()
    warmer.wake.set()
    return warmer


def poke(root: Path) -> None:
    """A search of ``root``'s public index: the thread looks whether the index moved on."""
    warmer = _warmers.get(str(root))
    if warmer is not None:
        warmer.wake.set()
