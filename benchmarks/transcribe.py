"""Draft-transcript benchmark: speech recognition of a ~5-minute recording, and the job queue's cost.

    .venv/bin/python benchmarks/transcribe.py
    .venv/bin/python benchmarks/transcribe.py --minutes 10 --skip-queue
    .venv/bin/python benchmarks/transcribe.py --skip-transcribe --jobs 500

**Transcription.** A recording of fictional Spanish (an oral history made up from templates with a
fixed seed, so every run speaks the same words) is spoken by ``espeak-ng -v es-419 -s 150``,
paragraph by paragraph, and joined with ``sox`` to ``--minutes`` (±10 %). It is transcribed by the
project's own ``nuevonorte.transcribe.draft.transcribe`` with ``Settings()`` (the bundled Whisper
base model, verified by sha256, int8, one thread per core), language "" (detect), in a new process
of its own, so that the peak resident memory (``ru_maxrss``) is that of one worker's model load,
decode and transcription of one recording and nothing else. Prints the audio's length, the model's
load, the transcription's wall and CPU time, the real-time factor without and with the load, the
peak memory, the passages, the detected language, and the word error rate against the words
spoken (a synthetic voice: indicative only). Targets: real-time factor ≤ 0.5, peak ≤ 1.5 GB.

**The queue.** Each job's overhead, three ways:

- Huey alone (``SqliteHuey``, ``results=False``, ``fsync=True``, as ``nuevonorte/jobs/queue.py``) with
  an empty task, and a consumer in another process configured as ``nuevonorte/jobs/worker.py``'s
  (one thread, polling as ``worker.POLLING`` says): ``--jobs`` round trips one at a
  time (enqueue → the task has run), each sent a random 0–0.5 s after the last one ran, so that it
  meets the consumer anywhere in its back-off (sent at once after the last, every job would wait
  the same first poll); ``--idle-jobs`` more, each after a pause long enough for the
  consumer to back off to its slowest polling (what a curator's first press meets); and 500 jobs
  enqueued at once (throughput: the engine's own cost, with no polling wait). One at a time, the
  wait for the consumer's next poll is most of a round trip.
- The database bookkeeping a job costs: ``records.claim`` + ``records.end`` on a SQLite archive, in
  this process.
- The whole path: the project's worker (``nuevonorte.jobs.worker.run``) in another process, jobs
  committed here and handed over by ``queue.enqueue``; each job is one whose recording is gone, so
  ``drafts.run`` claims it, reads it and ends it (cancelled) without hearing anything. Measured from
  the hand-over to the job row's ``finished_at``, one at a time as above and 500 at once.

Target: overhead < 50 ms a job.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import wave
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULT = "RESULT "  # the line a child process answers with
TARGET_RTF = 0.5
TARGET_PEAK_MB = 1500
TARGET_OVERHEAD_MS = 50
BATCH = 500
#: Poll the consumer's marks this often (seconds): fine enough not to matter, cheap enough not to
#: take a core from the consumer.
POLL = 0.001
#: Before each job sent "at a random moment": the consumer, which polls soon after its last job,
#: then backs off (``worker.POLLING``), is caught anywhere in its back-off.
RANDOM_PAUSE = (0.0, 0.5)
#: Before each "idle" job: longer than the consumer's whole back-off to its slowest polling.
IDLE_PAUSE = (0.7, 1.0)


# --- the recording --------------------------------------------------------------------------

PEOPLE = [
    "mi abuela Rosario",
    "mi tío Anselmo",
    "la señora Eulalia",
    "mi primo Fermín",
    "don Isidro",
    "mi madrina Consuelo",
    "mi hermana Lucía",
    "el maestro Benigno",
    "mi papá",
    "la vecina de enfrente",
]
PLACES = [
    "Monterrey",
    "Saltillo",
    "Torreón",
    "Chihuahua",
    "San Luis Potosí",
    "Zacatecas",
    "Durango",
    "Nuevo Laredo",
    "Matehuala",
    "Ciudad Juárez",
]
WHEN = [
    "en el invierno",
    "un martes por la mañana",
    "cuando yo tenía ocho años",
    "después de la cosecha",
    "en plena temporada de lluvias",
    "la semana de la feria",
    "antes de que naciera mi hermano",
    "al final del verano",
]
THINGS = [
    "una caja de fotografías",
    "dos maletas de cartón",
    "un radio viejo",
    "la máquina de coser de su madre",
    "un costal de frijol",
    "las cartas de su novia",
    "una guitarra sin cuerdas",
    "un cuaderno lleno de recetas",
]
WORK = [
    "una fábrica de ladrillos",
    "la panadería de la esquina",
    "un taller de costura",
    "la estación del tren",
    "un rancho de nogales",
    "la cocina de un hotel",
    "una imprenta pequeña",
]
MEMORIES = [
    "el olor del pan recién hecho",
    "las canciones que cantaban en el patio",
    "la primera vez que vimos nevar",
    "el ruido de los camiones por la noche",
    "las tardes de lotería con los vecinos",
    "la fiesta que hicieron cuando llegó la luz",
]
SAYINGS = [
    "el que no arriesga no gana",
    "hay que trabajar mientras haya sol",
    "la casa se hace con paciencia",
    "uno nunca deja de extrañar su tierra",
    "las cosas buenas tardan en llegar",
]
TEMPLATES = [
    "{person} llegó a {place} {when}, con {thing}.",
    "Durante muchos años trabajó en {work}, y los domingos salía a caminar por el centro de {place}.",
    "{person} siempre decía que {saying}.",
    "Nunca voy a olvidar {memory}.",
    "{when} nos mudamos a una casa pequeña cerca de {work}.",
    "Cuando pienso en {place}, me viene a la mente {memory}.",
    "{person} guardaba {thing} debajo de la cama, y nadie más podía tocar nada.",
    "Al principio no conocíamos a nadie, pero {person} nos ayudó a encontrar trabajo en {work}.",
    "Mi mamá nos contaba que {person} había salido de {place} {when}.",
    "Todavía tenemos {thing}, y los niños siempre preguntan de dónde salió.",
    "Los vecinos de {place} nos recibieron con café y tortillas de harina.",
    "{person} aprendió a leer ya de grande, con un cuaderno que le regaló {other}.",
]


def story(seed: int = 17) -> Iterator[str]:
    """Paragraphs of five sentences each, endlessly varied (the same for a seed)."""
    rng = random.Random(seed)
    while True:
        sentences = []
        for template in rng.sample(TEMPLATES, 5):
            person, other = rng.sample(PEOPLE, 2)
            sentence = template.format(
                person=person,
                other=other,
                place=rng.choice(PLACES),
                when=rng.choice(WHEN),
                thing=rng.choice(THINGS),
                work=rng.choice(WORK),
                memory=rng.choice(MEMORIES),
                saying=rng.choice(SAYINGS),
            )
            sentences.append(sentence[0].upper() + sentence[1:])
        yield " ".join(sentences)


def seconds_of(path: Path) -> float:
    with wave.open(str(path), "rb") as audio:
        return audio.getnframes() / audio.getframerate()


def make_recording(folder: Path, minutes: float) -> tuple[Path, float, str]:
    """A WAV of ``minutes`` (±10 %) of espeak-ng's Latin American Spanish, its length in seconds
    and the text it speaks."""
    target = minutes * 60
    parts: list[Path] = []
    spoken: list[str] = []
    total = 0.0
    for n, paragraph in enumerate(story()):
        if total >= target:
            break
        part = folder / f"part{n:03}.wav"
        subprocess.run(
            ["espeak-ng", "-v", "es-419", "-s", "150", "-w", str(part), paragraph], check=True, timeout=120
        )
        parts.append(part)
        spoken.append(paragraph)
        total += seconds_of(part)
    recording = folder / "recording.wav"
    subprocess.run(["sox", *map(str, parts), str(recording)], check=True, timeout=300)
    for part in parts:
        part.unlink()
    seconds = seconds_of(recording)
    if not 0.9 * target <= seconds <= 1.1 * target:
        sys.exit(f"the recording is {seconds / 60:.2f} min, not {minutes} min ± 10 %")
    return recording, seconds, " ".join(spoken)


def words(text: str) -> list[str]:
    """Lower case, no accents, no punctuation: what a word error rate compares."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.findall(r"[a-zñ0-9]+", plain)


def word_error_rate(reference: list[str], heard: list[str]) -> float:
    """(substitutions + deletions + insertions) / words of ``reference`` (Levenshtein on words)."""
    previous = list(range(len(heard) + 1))
    for i, word in enumerate(reference, 1):
        current = [i]
        for j, other in enumerate(heard, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = current
    return previous[-1] / max(1, len(reference))


# --- the transcription, in a process of its own ---------------------------------------------


def child_transcribe(recording: str) -> None:
    """Load the model, transcribe ``recording``, answer with one RESULT line of JSON."""
    start = time.perf_counter()
    from nuevonorte.transcribe.draft import Settings, transcribe
    from nuevonorte.transcribe.model import load

    settings = Settings()
    load(settings.model_dir, settings.hash_list, settings.threads)
    loaded = time.perf_counter()
    peak_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reports: list[int] = []

    def progress(percent: int) -> bool:
        reports.append(percent)
        return True

    cpu = resource.getrusage(resource.RUSAGE_SELF)
    with open(recording, "rb") as audio:
        began = time.perf_counter()
        draft = transcribe(audio, "", settings, progress)
        done = time.perf_counter()
    after = resource.getrusage(resource.RUSAGE_SELF)
    answer = {
        "load_s": loaded - start,
        "transcribe_s": done - began,
        "cpu_s": (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime),
        "peak_after_load_kb": peak_after_load,
        "peak_kb": after.ru_maxrss,
        "language": draft.language,
        "passages": len(draft.passages),
        "reports": len(reports),
        "last_end_ms": draft.passages[-1].end_ms if draft.passages else 0,
        "text": " ".join(passage.text for passage in draft.passages),
    }
    print(RESULT + json.dumps(answer), flush=True)


def run_child(*arguments: str, timeout: float) -> dict[str, Any]:
    """Run this script with ``arguments`` in a new process; its RESULT line, parsed."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *arguments],
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    if done.returncode != 0 or not lines:
        sys.exit(f"the child process failed (exit {done.returncode}); its output:\n{done.stdout}")
    return dict(json.loads(lines[-1][len(RESULT) :]))


def bench_transcription(minutes: float) -> None:
    folder = Path(tempfile.mkdtemp(prefix="nn-transcribe-bench-"))
    try:
        start = time.perf_counter()
        recording, seconds, spoken = make_recording(folder, minutes)
        made = time.perf_counter() - start
        size = recording.stat().st_size / 1e6
        print(
            f"Recording: espeak-ng es-419, 150 words/min, {seconds:.1f} s ({seconds / 60:.2f} min), "
            f"{len(words(spoken))} words, {size:.1f} MB WAV, made in {made:.1f} s"
        )
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        result = run_child("--child-transcribe", str(recording), timeout=max(1800, seconds * 6))
        whole = time.perf_counter() - start
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    load_s, work_s = result["load_s"], result["transcribe_s"]
    rtf = work_s / seconds
    rtf_with_load = (load_s + work_s) / seconds
    peak_mb = result["peak_kb"] / 1024
    wer = word_error_rate(words(spoken), words(result["text"]))
    print(f"Transcription (Settings(): bundled Whisper base, int8, {os.cpu_count()} threads, beam 5, VAD):")
    print(f"  model load (import, read, sha256, CTranslate2): {load_s:.2f} s")
    print(
        f"  transcription (decode, language detection, recognition, grouping): {work_s:.1f} s wall, "
        f"{result['cpu_s']:.1f} s CPU ({result['cpu_s'] / work_s:.2f} cores busy)"
    )
    print(
        f"  real-time factor: {rtf:.3f} without the load, {rtf_with_load:.3f} with it "
        f"(target ≤ {TARGET_RTF}: {met(rtf <= TARGET_RTF)})"
    )
    print(
        f"  peak resident memory: {peak_mb:.0f} MB ({result['peak_after_load_kb'] / 1024:.0f} MB after the "
        f"model load) (target ≤ {TARGET_PEAK_MB} MB: {met(peak_mb <= TARGET_PEAK_MB)})"
    )
    print(
        f"  draft: language {result['language']!r} (asked ''), {result['passages']} passages, the last "
        f"ending at {result['last_end_ms'] / 1000:.1f} s; {result['reports']} progress reports"
    )
    print(f"  word error rate against the words spoken: {wer:.1%} (synthetic voice: indicative only)")
    print(f"  the child process took {whole:.1f} s in all; load average {load_before:.1f} → {load_after:.1f}")


# --- the queue ------------------------------------------------------------------------------


def empty_queue(path: str, marks: Path) -> Any:
    """Huey as ``nuevonorte/jobs/queue.py`` makes it, with one empty task that leaves a mark (the
    time it ran) in ``marks``; returns the task."""
    from huey import SqliteHuey

    huey = SqliteHuey("benchmark", filename=path, fsync=True, results=False, store_none=False, utc=True)

    @huey.task(name="touch")
    def touch(n: int) -> None:
        ran = time.time()
        temporary = marks / f"{n}.tmp"
        temporary.write_text(repr(ran))
        os.replace(temporary, marks / str(n))

    return touch


def child_consumer(path: str, marks: str) -> None:
    """Consume the empty queue as ``nuevonorte.jobs.worker.run`` consumes the archive's."""
    from nuevonorte.jobs import worker

    touch = empty_queue(path, Path(marks))
    touch.huey.create_consumer(workers=1, worker_type="thread", periodic=False, **worker.POLLING).run()


def archive_app(tmp: Path) -> Any:
    from nuevonorte import create_app

    return create_app(
        {
            "TESTING": True,
            "secret_key": "benchmark-only-secret-key-not-for-any-archive",
            "database_url": f"sqlite:///{tmp / 'archive.sqlite3'}",
            "media_dir": str(tmp / "media"),
            "index_dir": str(tmp / "index"),
            "ledger_path": str(tmp / "withdrawals.ledger"),
            "queue_path": str(tmp / "jobs.sqlite3"),
        }
    )


def child_worker(tmp: str) -> None:
    """The project's own worker on the archive in ``tmp``."""
    from nuevonorte.jobs import worker

    worker.run(archive_app(Path(tmp)))


def start(*arguments: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *arguments], cwd=ROOT)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(ready: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """Poll ``ready`` until it answers something true."""
    deadline = time.monotonic() + timeout
    while not (answer := ready()):
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(POLL)
    return answer


def p95(times: list[float]) -> float:
    return sorted(times)[int(0.95 * (len(times) - 1))]


def ms(times: list[float]) -> str:
    """p50, p95, max and mean of ``times`` (seconds), in ms."""
    return (
        f"p50 {statistics.median(times) * 1000:.1f} ms, p95 {p95(times) * 1000:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms, mean {statistics.mean(times) * 1000:.1f} ms"
    )


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def overhead_target(times: list[float]) -> str:
    """Whether ``times`` meet the overhead target, at p50 and at p95."""
    limit = TARGET_OVERHEAD_MS / 1000
    return (
        f"target < {TARGET_OVERHEAD_MS} ms: {met(statistics.median(times) < limit)} at p50, "
        f"{met(p95(times) < limit)} at p95"
    )


#: Sends one job: its key and the time (epoch seconds) it was handed to the queue.
Send = Callable[[], tuple[Any, float]]
#: When the job of a key had run (epoch seconds), or None while it has not.
Ran = Callable[[Any], float | None]


def one_at_a_time(send: Send, ran: Ran, count: int, pause: tuple[float, float], seed: int) -> list[float]:
    """``count`` jobs, each sent a random pause after the last one ran: the round trips (s)."""
    rng = random.Random(seed)
    trips = []
    for _ in range(count):
        time.sleep(rng.uniform(*pause))
        key, sent = send()
        trips.append(wait_for(partial(ran, key), f"job {key}") - sent)
    return trips


def at_once(send: Send, ran: Ran, count: int) -> tuple[float, float]:
    """``count`` jobs sent at once: seconds to send them, and until the last had run."""
    began = time.time()
    keys = [send()[0] for _ in range(count)]
    sent = time.time() - began
    last = max(wait_for(partial(ran, key), f"job {key} of the batch", 600) for key in keys)
    return sent, last - began


def print_batch(sent: float, last: float) -> None:
    print(
        f"  {BATCH} jobs sent at once: sent in {sent:.2f} s, the last had run {last:.2f} s after the first "
        f"was sent: {BATCH / last:.0f} jobs/s, {last / BATCH * 1000:.1f} ms a job"
    )


def bench_huey(tmp: Path, jobs: int, idle_jobs: int) -> None:
    marks = tmp / "marks"
    marks.mkdir()
    path = str(tmp / "empty-queue.sqlite3")
    touch = empty_queue(path, marks)
    numbers = iter(range(1_000_000))
    enqueues: list[float] = []

    def send() -> tuple[int, float]:
        n = next(numbers)
        sent = time.time()
        touch(n)
        enqueues.append(time.time() - sent)
        return n, sent

    def ran(n: int) -> float | None:
        try:
            return float((marks / str(n)).read_text())
        except FileNotFoundError:
            return None

    consumer = start("--child-consumer", path, str(marks))
    try:
        one_at_a_time(send, ran, 5, (0, 0), seed=0)  # the consumer is up and warm
        enqueues.clear()
        load = os.getloadavg()[0]
        trips = one_at_a_time(send, ran, jobs, RANDOM_PAUSE, seed=1)
        print(
            "Huey alone (SqliteHuey, fsync, no results; an empty task; one consumer thread, another process):"
        )
        print(
            f"  {jobs} jobs one at a time, each {RANDOM_PAUSE[0]}–{RANDOM_PAUSE[1]} s after the last had "
            f"run: enqueue → ran {ms(trips)} ({overhead_target(trips)})"
        )
        print(f"    the enqueue call itself: {ms(enqueues)}; load average {load:.1f}")
        if idle_jobs:
            idle = one_at_a_time(send, ran, idle_jobs, IDLE_PAUSE, seed=2)
            print(
                f"  {idle_jobs} jobs each after {IDLE_PAUSE[0]}–{IDLE_PAUSE[1]} s idle (the consumer "
                f"polls at its slowest): enqueue → ran {ms(idle)} ({overhead_target(idle)})"
            )
        one_at_a_time(send, ran, 1, (0.5, 0.5), seed=0)
        print_batch(*at_once(send, ran, BATCH))
    finally:
        stop(consumer)


def new_job() -> Any:
    """A waiting draft-transcript job of no recording (as one whose recording was deleted)."""
    from nuevonorte.models import Job, JobKind, JobState
    from nuevonorte.models.base import utcnow

    return Job(
        kind=JobKind.DRAFT_TRANSCRIPT,
        state=JobState.QUEUED,
        media_id=None,
        language="",
        automatic=False,
        attempts=0,
        progress=0,
        reason="",
        created_at=utcnow(),
    )


def bench_bookkeeping(app: Any, jobs: int) -> None:
    """``records.claim`` + ``records.end`` of ``jobs`` new jobs, timed in this process."""
    from nuevonorte.database import write_intent
    from nuevonorte.extensions import db
    from nuevonorte.jobs import records
    from nuevonorte.models import Job, JobState

    with app.app_context():
        db.create_all()
        with write_intent():
            jobs_added = [new_job() for _ in range(jobs)]
            db.session.add_all(jobs_added)
            db.session.commit()
        ids = [job.id for job in jobs_added]
        db.session.rollback()
        claims, ends, both = [], [], []
        for job_id in ids:
            began = time.perf_counter()
            token = records.claim(job_id)
            claimed = time.perf_counter()
            if token is None:
                sys.exit(f"job {job_id} could not be claimed")
            records.end(job_id, token, JobState.DONE)
            ended = time.perf_counter()
            claims.append(claimed - began)
            ends.append(ended - claimed)
            both.append(ended - began)
        done = db.session.query(Job).filter(Job.id.in_(ids), Job.state == JobState.DONE).count()
        db.session.remove()
    print(f"Database bookkeeping per job (SQLite archive, in this process; {done} of {jobs} jobs done):")
    print(f"  records.claim + records.end: {ms(both)}")
    print(f"    claim {ms(claims)}; end {ms(ends)}")


def bench_full_path(app: Any, tmp: Path, jobs: int) -> None:
    from sqlalchemy import select

    from nuevonorte.database import write_intent
    from nuevonorte.extensions import db
    from nuevonorte.jobs import queue
    from nuevonorte.models import Job, JobState

    def send() -> tuple[int, float]:
        with write_intent():  # as a curator's POST (BEGIN IMMEDIATE): queue for SQLite's write lock
            job = new_job()
            db.session.add(job)
            db.session.flush()
            job_id = job.id
            db.session.commit()  # no transaction left open (a read's snapshot could not write next)
        sent = time.time()
        queue.enqueue(job_id)
        return job_id, sent

    def ran(job_id: int) -> float | None:
        row = db.session.execute(select(Job.state, Job.finished_at).where(Job.id == job_id)).one()
        db.session.rollback()  # a new snapshot at the next look
        if row.state in (JobState.QUEUED, JobState.RUNNING) or row.finished_at is None:
            return None
        return float(row.finished_at.timestamp())

    worker = start("--child-worker", str(tmp))
    try:
        with app.app_context():
            first = db.session.scalar(select(db.func.max(Job.id))) or 0
            db.session.rollback()
            one_at_a_time(send, ran, 5, (0, 0), seed=0)  # the worker is up and warm
            load = os.getloadavg()[0]
            trips = one_at_a_time(send, ran, jobs, RANDOM_PAUSE, seed=1)
            one_at_a_time(send, ran, 1, (0.5, 0.5), seed=0)
            batch = at_once(send, ran, BATCH)
            reasons = list(db.session.scalars(select(Job.reason).where(Job.id > first)))
            db.session.remove()
    finally:
        stop(worker)
    gone = sum(reason == "recording_gone" for reason in reasons)
    print(
        "The whole path: nuevonorte.jobs.worker.run in another process; each job committed here, then "
        f"queue.enqueue; drafts.run claims it, reads it, finds its recording gone, ends it "
        f"({gone} of {len(reasons)} so ended):"
    )
    print(
        f"  {jobs} jobs one at a time, each {RANDOM_PAUSE[0]}–{RANDOM_PAUSE[1]} s after the last had ended: "
        f"queue.enqueue → the job row finished {ms(trips)} "
        f"({overhead_target(trips)}); load average {load:.1f}"
    )
    print_batch(*batch)


def bench_queue(jobs: int, idle_jobs: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="nn-queue-bench-"))
    try:
        bench_huey(tmp, jobs, idle_jobs)
        app = archive_app(tmp)
        bench_bookkeeping(app, jobs)
        bench_full_path(app, tmp, jobs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- the conditions -------------------------------------------------------------------------


def conditions() -> None:
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%h"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    memory = next(
        (
            int(line.split()[1]) / 1024**2
            for line in Path("/proc/meminfo").read_text().splitlines()
            if "MemTotal" in line
        ),
        0.0,
    )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC, at {commit}{' (uncommitted changes)' if dirty else ''}"
    )
    print(f"machine: {os.cpu_count()} cores, {memory:.0f} GiB; load average {load}")
    print(
        f"Python {sys.version.split()[0]}, faster-whisper {version('faster-whisper')}, "
        f"ctranslate2 {version('ctranslate2')}, huey {version('huey')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=5, help="length of the recording (default 5)")
    parser.add_argument("--jobs", type=int, default=200, help="jobs sent one at a time (default 200)")
    parser.add_argument(
        "--idle-jobs", type=int, default=40, help="jobs each sent after the consumer went idle (default 40)"
    )
    parser.add_argument("--skip-transcribe", action="store_true", help="no transcription")
    parser.add_argument("--skip-queue", action="store_true", help="no queue")
    parser.add_argument("--child-transcribe", metavar="WAV", help=argparse.SUPPRESS)
    parser.add_argument("--child-consumer", nargs=2, metavar=("QUEUE", "MARKS"), help=argparse.SUPPRESS)
    parser.add_argument("--child-worker", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_transcribe:
        return child_transcribe(args.child_transcribe)
    if args.child_consumer:
        return child_consumer(*args.child_consumer)
    if args.child_worker:
        return child_worker(args.child_worker)

    began = time.perf_counter()
    conditions()
    if not args.skip_transcribe:
        bench_transcription(args.minutes)
    if not args.skip_queue:
        bench_queue(args.jobs, args.idle_jobs)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}; {time.perf_counter() - began:.0f} s in all")


if __name__ == "__main__":
    main()
