"""``nuevonorte worker``: the consumer. It runs jobs one at a time (speech recognition already
uses every core) and, every half lease, puts back in the queue what a dead worker left behind
(``records.recover``). Every second it also brings this machine's search index up to the search
log (``search.follow``): run one worker on every machine that serves search."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from nuevonorte.jobs import queue, records

log = logging.getLogger(__name__)

#: How an idle consumer polls a SQLite queue: again after 10 ms, backing off ×1.5 to every 40 ms
#: (25 cheap reads a second; Redis blocks instead), so a job starts within 40 ms of its request.
POLLING = {"initial_delay": 0.01, "backoff": 1.5, "max_delay": 0.04}


def _start(app: Flask) -> None:
    """What a killed worker left in the media folder (a silenced copy stored but not recorded)
    is removed before this one starts, as gunicorn's workers do at theirs."""
    from nuevonorte.recovery import recover
    from nuevonorte.storage import get_storage

    with app.app_context():
        recover(get_storage())


def recover_once(app: Flask) -> int:
    with app.app_context():
        return records.recover(queue.queued_ids, queue.enqueue)


def _recovering(app: Flask, stop: threading.Event) -> None:
    interval = max(1.0, int(app.config["JOB_LEASE_SECONDS"]) / 2)
    while not stop.wait(interval):
        try:
            recover_once(app)
        except Exception as error:  # a busy database: try again at the next turn
            log.warning("job recovery skipped a turn: %s", type(error).__name__)


def partner_tick(app: Flask) -> int:
    """Partner harvests that are due, and partners to hide for want of confirmation."""
    from nuevonorte.partners import schedule

    with app.app_context():
        return schedule.tick()


def _partners(app: Flask, stop: threading.Event) -> None:
    with app.app_context():
        from nuevonorte.partners import schedule

        every = schedule.interval()
    while not stop.wait(every):
        try:
            partner_tick(app)
        except Exception as error:  # a busy database: try again at the next turn
            log.warning("partner schedule skipped a turn: %s", type(error).__name__)


#: How often a worker's machine follows the search log: a change made through another machine
#: is in this machine's index within about this long (decision 0026). A look is one read of the
#: log's state row and of the position file.
FOLLOW_SECONDS = 0.5
#: How often the search log is pruned of entries older than ``search_log_days``.
PRUNE_SECONDS = 3600.0


def follow_tick(app: Flask) -> int:
    """Apply the search log to this machine's index; an index left further behind than the log
    keeps is rebuilt here (search is served from the old one meanwhile). Returns how many."""
    from nuevonorte.search import follow, health, store

    with app.app_context():
        # During a rebuild too: the live index keeps following (a withdrawal made through another
        # machine must leave this one's files without waiting for the rebuild, T03).
        if not (store.has_files(store.PUBLIC) and store.has_files(store.STAFF)):
            return 0
        try:
            with store.abandoned_files_ignored():
                return follow.follow()
        except follow.Behind as behind:
            log.warning("search index %s: rebuilding it", behind)
            health.rebuild()
            return 0


def prune_log(app: Flask) -> int:
    from nuevonorte.search import follow

    with app.app_context():
        return follow.prune(int(app.config["SEARCH_LOG_DAYS"]))


def _following(app: Flask, stop: threading.Event) -> None:
    pruned_at = 0.0
    while not stop.wait(FOLLOW_SECONDS):
        try:
            follow_tick(app)
            if time.monotonic() - pruned_at > PRUNE_SECONDS:
                prune_log(app)
                pruned_at = time.monotonic()
        except Exception as error:  # a busy database or index: try again at the next turn
            log.warning("search log follower skipped a turn: %s", type(error).__name__)


def run(app: Flask, workers: int = 1) -> None:
    """Consume until SIGINT or SIGTERM (a running job is then left to recovery)."""
    huey = queue.engine(app)
    _start(app)
    handed = recover_once(app)
    if handed:
        log.info("worker: %d job(s) handed back to the queue", handed)
    stop = threading.Event()
    thread = threading.Thread(target=_recovering, args=(app, stop), name="job-recovery", daemon=True)
    thread.start()
    partner_tick(app)
    threading.Thread(target=_partners, args=(app, stop), name="partner-schedule", daemon=True).start()
    # In a thread from its first look: an index that must be rebuilt (Behind) does not hold back
    # the jobs, a withdrawal notice to a partner first of all.
    threading.Thread(target=_following, args=(app, stop), name="search-follower", daemon=True).start()
    # Two threads more than asked for (drafts take turns: ``runner._drafting``): a partner's
    # harvest (network waits) and a draft never hold back a withdrawal notice or a silenced copy.
    consumer = huey.create_consumer(workers=workers + 2, worker_type="thread", periodic=False, **POLLING)
    try:
        consumer.run()
    finally:
        stop.set()


def drain(app: Flask) -> int:
    """Run every job the queue holds now, in this process, then return how many ran (for cron
    and for tests: the same tasks as the consumer, without its threads)."""
    _start(app)
    with app.app_context():
        queue.move_due_retries()
    recover_once(app)
    partner_tick(app)
    follow_tick(app)
    huey = queue.engine(app)
    count = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        count += 1
    return count
