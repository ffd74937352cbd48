"""Ingest benchmark: a 12-megapixel photo with full EXIF/GPS and a ~100 MB recording.

Prints seconds and peak resident memory (parent, and the sandboxed child) next to Pillow alone
decoding and re-encoding the same photo. Each part runs in its own process so peaks don't mix.
Run from the project folder: ``.venv/bin/python benchmarks/ingest.py``.
"""

from __future__ import annotations

import io
import json
import math
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHOTO_SIZE = (4000, 3000)
AUDIO_BYTES = 100 * 1024 * 1024
RUNS = 7
#: Each part runs this many times in turn (Pillow alone, then ingest, then again), each time in
#: a new process; the figures pool all rounds, so a slow spell of the machine weighs on both.
ROUNDS = 3


def vm(field: str) -> int:
    """A VmRSS/VmHWM figure of this process, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


def make_photo(path: Path, icc: bool = False) -> None:
    """A 12-megapixel JPEG with texture (so it compresses like a photo), full EXIF/GPS, XMP, a comment
    and, when ``icc``, a Display-P3 profile (which costs a colour conversion of every pixel)."""
    from PIL import Image, ImageDraw, ImageFilter

    from tests import media_samples as samples

    noise = Image.effect_noise(PHOTO_SIZE, 40).filter(ImageFilter.GaussianBlur(1))
    base = Image.linear_gradient("L").resize(PHOTO_SIZE)
    image = Image.merge("RGB", (noise, base, Image.blend(noise, base, 0.5)))
    draw = ImageDraw.Draw(image)
    for n in range(40):
        draw.ellipse((n * 97, n * 61, n * 97 + 400, n * 61 + 300), outline=(255, 200, 0), width=6)
    out = io.BytesIO()
    extra = {"icc_profile": samples.display_p3_profile()} if icc else {}
    image.save(
        out,
        "JPEG",
        quality=92,
        exif=samples.dirty_exif(orientation=1),
        xmp=samples.XMP,
        comment=b"COM benchmark",
        **extra,
    )
    path.write_bytes(out.getvalue())


def make_audio(path: Path) -> None:
    """A ~100 MB WAV (16-bit mono, 44.1 kHz, about 20 minutes), written in chunks."""
    rate = 44100
    second = b"".join(
        struct.pack("<h", int(6000 * math.sin(2 * math.pi * 220 * n / rate))) for n in range(rate)
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        written = 0
        while written < AUDIO_BYTES:
            w.writeframes(second)
            written += len(second)


def spread(times: list[float]) -> dict[str, float]:
    """Best, median and worst of the timed runs."""
    return {"best": min(times), "median": statistics.median(times), "worst": max(times)}


def part_pillow(photo: Path) -> dict[str, Any]:
    """Pillow alone: open, decode, encode as JPEG at the archive's quality (into memory)."""
    from PIL import Image

    from nuevonorte.media.images import JPEG_QUALITY

    times, cpu = [], []
    for _ in range(RUNS + 1):  # the first run warms up, as ingest's first run starts the server
        start, start_cpu = time.perf_counter(), time.process_time()
        with Image.open(photo) as image:
            image.load()
            image.save(io.BytesIO(), "JPEG", quality=JPEG_QUALITY)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"times": times[1:], "cpu": min(cpu[1:]), "parent_peak_mb": vm("VmHWM") / 2**20}


def part_ingest(path: Path, media_dir: Path) -> dict[str, Any]:
    """ingest_upload into a fresh app: one cold run (starts the fork server), then RUNS timed runs."""
    from nuevonorte import create_app, stories
    from nuevonorte.consent import ConsentChoices
    from nuevonorte.extensions import db
    from nuevonorte.media import ingest_upload, sandbox

    children: list[dict[str, float]] = []
    run = sandbox.run

    def recording_run(*args: Any, **kwargs: Any) -> dict[str, Any]:
        facts = run(*args, **kwargs)
        children.append(facts["child"])  # CPU time and peak RSS of the child that parsed the file
        return facts

    sandbox.run = recording_run  # type: ignore[assignment]
    media_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(
        {
            "TESTING": True,
            "secret_key": "b" * 40,
            "database_url": f"sqlite:///{media_dir}/b.sqlite3",
            "media_dir": str(media_dir / "media"),
        }
    )
    with app.app_context():
        db.create_all()
        story = stories.submit(
            None,
            body="x",
            title="t",
            language="es",
            choices=ConsentChoices(credit_name="A"),
            consent_language="es",
        )
        db.session.commit()
        times, cpu = [], []
        rss_before = vm("VmRSS")
        reset_peak()
        for _ in range(RUNS + 1):
            with path.open("rb") as stream:
                start, start_cpu = time.perf_counter(), time.process_time()
                _media, report = ingest_upload(story, stream)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            db.session.rollback()
        server = max(vm_of(s.proc.pid, "VmHWM") for s in sandbox._idle)
        return {
            "times": times[1:],
            "cold": times[0],
            "cpu": min(cpu[1:]) + min(c["cpu_seconds"] for c in children[1:]),
            "parent_rss_before_mb": rss_before / 2**20,
            "parent_peak_mb": vm("VmHWM") / 2**20,
            "parent_growth_mb": (vm("VmHWM") - rss_before) / 2**20,
            "child_peak_mb": max(c["peak_rss_kb"] for c in children) / 1024,
            "server_peak_mb": server / 2**20,
            "removed": ",".join(report.removed),
        }


def vm_of(pid: int, field: str) -> int:
    """A VmRSS/VmHWM figure of another process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def pooled(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One part's rounds together: the spread of all timed runs, the least CPU time and cold
    start, the highest peaks."""
    result = {**rounds[-1], **spread([t for r in rounds for t in r["times"]])}
    for key in ("cpu", "cold"):
        if key in result:
            result[key] = min(r[key] for r in rounds)
    for key in [k for k in result if k.endswith(("_peak_mb", "_growth_mb"))]:
        result[key] = max(r[key] for r in rounds)
    return result


def seconds(result: dict[str, Any]) -> str:
    return f"best {result['best']:.3f} s, median {result['median']:.3f} s, worst {result['worst']:.3f} s"


def main() -> None:
    if len(sys.argv) > 1:  # one part, in its own process
        part, path, folder = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
        result = part_pillow(path) if part == "pillow" else part_ingest(path, folder)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo, p3_photo, audio = folder / "photo.jpg", folder / "photo-p3.jpg", folder / "voice.wav"
        make_photo(photo)
        make_photo(p3_photo, icc=True)
        make_audio(audio)
        parts = (
            ("pillow", "pillow", photo),
            ("photo", "ingest", photo),
            ("pillow-p3", "pillow", p3_photo),
            ("photo-p3", "ingest", p3_photo),
            ("audio", "ingest", audio),
        )
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in parts}
        for round_ in range(ROUNDS):
            for name, part, path in parts:
                out = subprocess.run(
                    [sys.executable, __file__, part, str(path), str(folder / f"{name}-{round_}")],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                rounds[name].append(json.loads(out.stdout))
        results = {name: pooled(found) for name, found in rounds.items()}
        for label, pillow, ingest, path in (
            ("EXIF/GPS/XMP/COM", "pillow", "photo", photo),
            ("EXIF/GPS/XMP/COM + Display-P3 ICC", "pillow-p3", "photo-p3", p3_photo),
        ):
            reference, ours = results[pillow], results[ingest]
            print(
                f"photo: {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG, {path.stat().st_size / 2**20:.1f} MB, {label}"
            )
            print(
                f"  Pillow alone (decode + JPEG encode): {seconds(reference)}; CPU {reference['cpu']:.3f} s"
            )
            print(f"  ingest_upload: {seconds(ours)}; CPU (parent + child) {ours['cpu']:.3f} s")
            print(
                f"  ratio: best/best {ours['best'] / reference['best']:.2f}x, "
                f"median/median {ours['median'] / reference['median']:.2f}x (target < 1.5x); "
                f"CPU {ours['cpu'] / reference['cpu']:.2f}x"
            )
            print(f"  first ingest of the process (starts the fork server): {ours['cold']:.3f} s")
            print(f"  removed: {ours['removed']}")
            print(
                f"  peak RSS: parent {ours['parent_peak_mb']:.0f} MB, child {ours['child_peak_mb']:.0f} MB, "
                f"fork server {ours['server_peak_mb']:.0f} MB"
            )
        audio_result = results["audio"]
        print(f"audio: {audio.stat().st_size / 2**20:.0f} MB WAV")
        print(f"  ingest_upload: {seconds(audio_result)}")
        print(
            f"  parent RSS growth: {audio_result['parent_growth_mb']:.1f} MB (target < 64 MB); "
            f"child peak RSS {audio_result['child_peak_mb']:.0f} MB"
        )
        load = Path("/proc/loadavg").read_text().split()[:3]
        print(
            f"{ROUNDS} rounds of {RUNS} timed runs each (after one cold run per round); machine: "
            f"{subprocess.getoutput('nproc')} cores, load average {load}"
        )


if __name__ == "__main__":
    main()
