"""How long the proof of work takes a phone, and what it costs a flood (decision 0008).

Serves the real archive (SQLite in a temporary folder, the sign-in under pressure) on loopback
and opens its sign-in page in Debian's Chromium at phone size, with the CPU slowed 1×, 4× and
6× through the DevTools protocol (4× is what Lighthouse takes for a mid-range phone; 6× stands
for a cheap one). For each speed it prints:

- the hash rate of the page's own SHA-256 (``static/vendor/sha256.js``) in the page;
- the time from opening the page until ``static/proof.js`` has put its answer in the form,
  over ``--runs`` page loads (each a fresh challenge): mean, median and worst;
- the bound: ``DEFAULT_WORK`` numbers at that rate (no challenge can take longer).

Then the cost for a flooder solving the same challenges natively (Python's hashlib, one core),
and, for comparison, what a leading-zero-bits puzzle of the same mean would make the slowest
visitors wait. Run: ``.venv/bin/python benchmarks/proof_of_work.py [--runs 20]``.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import math
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RATES = (1, 4, 6)
SOLVED = re.compile(r"^[0-9]+$")
HASH_LOOP = """() => {
  const salt = "0123456789abcdef01234567", n = 200000, t0 = performance.now();
  let hits = 0;
  for (let i = 0; i < n; i++) if (window.sha256(salt + i) === "ff") hits++;
  return n / ((performance.now() - t0) / 1000);
}"""


def serve(folder: Path) -> tuple[str, object]:
    """The archive on a free loopback port, with the sign-in always under pressure."""
    from werkzeug.serving import make_server

    from nuevonorte import create_app
    from nuevonorte.extensions import db
    from nuevonorte.ratelimit import Limit

    (folder / "config.toml").write_text("")
    os.environ["NUEVONORTE_CONFIG"] = str(folder / "config.toml")
    app = create_app(
        {
            "TESTING": True,
            "secret_key": "benchmark-secret-key-0123456789-abcdefghijklmnop",
            "database_url": f"sqlite:///{folder / 'bench.sqlite3'}",
            "media_dir": str(folder / "media"),
            "index_dir": str(folder / "index"),
            "ledger_path": str(folder / "withdrawals.ledger"),
            "RATE_LIMITS": {"receipt": (Limit(0, 3600),)},
        }
    )
    with app.app_context():
        db.create_all()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def measure(base: str, runs: int) -> list[tuple[int, float, list[float]]]:
    from playwright.sync_api import expect, sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("NUEVONORTE_CHROMIUM", "/usr/bin/chromium"),
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        for rate in RATES:
            context = browser.new_context(viewport={"width": 390, "height": 844})
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": rate})
            page.goto(f"{base}/en/my-stories")
            hash_rate = page.evaluate(HASH_LOOP)
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                page.goto(f"{base}/en/my-stories", wait_until="commit")
                expect(page.locator('input[name="pow_nonce"]')).to_have_value(SOLVED, timeout=60_000)
                times.append(time.perf_counter() - start)
            results.append((rate, hash_rate, times))
            context.close()
        browser.close()
    return results


def native_rate(count: int = 300_000) -> float:
    """SHA-256 of salt + n per second in Python on one core, the way a flooder would solve."""
    salt = b"0123456789abcdef01234567"
    start = time.perf_counter()
    for n in range(count):
        hashlib.sha256(salt + str(n).encode()).digest()
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="page loads per CPU speed")
    args = parser.parse_args()

    from nuevonorte.proof_of_work import DEFAULT_WORK

    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        base, server = serve(Path(tmp))
        try:
            results = measure(base, args.runs)
        finally:
            server.shutdown()  # type: ignore[attr-defined]

    print(f"load average before and after: {load[0]:.1f}, {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"work bound: {DEFAULT_WORK:,} numbers (mean {DEFAULT_WORK // 2:,}); {args.runs} page loads each")
    print(f"{'CPU':>4} {'hashes/s':>10} {'mean s':>7} {'median s':>9} {'worst s':>8} {'bound s':>8}")
    for rate, hash_rate, times in results:
        print(
            f"{rate:>3}× {hash_rate:>10,.0f} {statistics.mean(times):>7.2f} {statistics.median(times):>9.2f}"
            f" {max(times):>8.2f} {DEFAULT_WORK / hash_rate:>8.2f}"
        )

    native = native_rate()
    print(f"\nflooder, Python hashlib on one core: {native:,.0f} hashes/s,")
    per_proof = DEFAULT_WORK / 2 / native
    print(f"  {per_proof * 1000:.0f} ms per proof on average, {1 / per_proof:.1f} proofs/s")

    slow = results[-1][1]
    mean_s = DEFAULT_WORK / 2 / slow
    bits = math.log2(DEFAULT_WORK / 2)
    print(f"\nat {RATES[-1]}×, a leading-zero-bits puzzle of the same mean", end=" ")
    print(f"({bits:.1f} bits, {mean_s:.2f} s of hashing):")
    for share in (0.05, 0.01, 0.001):
        waits = mean_s * -math.log(share)
        print(f"  1 visitor in {round(1 / share):,} waits more than {waits:.1f} s", end="")
        print(f" (this puzzle: never more than {DEFAULT_WORK / slow:.1f} s)")


if __name__ == "__main__":
    main()
