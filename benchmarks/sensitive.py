"""Recall and false flags of the sensitive-passage assistant (decision 0015), per rule.

    .venv/bin/python benchmarks/sensitive.py

Runs ``nuevonorte.sensitive.find`` on the written test passages: the set written beside the
rules (``tests/sensitive_passages.py``), a held-out set written by someone who never saw them
(``tests/sensitive_heldout.py``; the rules were since improved on its misses) and an unseen
set, by another author, on which no rule was ever tuned (``tests/sensitive_unseen.py``), and a
third author's (``tests/sensitive_fresh.py``), never tuned on either. For
each rule: passages that should be flagged, how many were (recall), and flags where none was
expected (false). Then each miss and false flag of the three held-out sets, with the words, so a
rule's next change has its evidence. And the time per passage.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nuevonorte import sensitive
from tests.sensitive_fresh import FRESH
from tests.sensitive_heldout import HELDOUT
from tests.sensitive_passages import PASSAGES
from tests.sensitive_unseen import UNSEEN


def measure(name: str, passages: list[tuple[str, str, set[str]]], details: bool) -> None:
    print(f"\n{name}: {len(passages)} passages ({sum(1 for p in passages if not p[2])} with nothing to flag)")
    print(f"{'rule':<10} {'expected':>9} {'found':>6} {'recall':>7} {'false':>6}")
    totals = [0, 0, 0]
    lines = []
    for rule in sensitive.RULES:
        expected = found = false = 0
        for lang, text, codes in passages:
            hits = [(s, e) for r, s, e in sensitive.find(text) if r is rule]
            if rule.code in codes:
                expected += 1
                found += bool(hits)
                if not hits:
                    lines.append(f"  missed {rule.code:<9} ({lang}) {text}")
            elif hits:
                false += 1
                words = ", ".join(repr(text[s:e]) for s, e in hits)
                lines.append(f"  false  {rule.code:<9} ({lang}) {words} in: {text}")
        recall = f"{found / expected:.0%}" if expected else "-"
        print(f"{rule.code:<10} {expected:>9} {found:>6} {recall:>7} {false:>6}")
        totals = [totals[0] + expected, totals[1] + found, totals[2] + false]
    print(f"{'all':<10} {totals[0]:>9} {totals[1]:>6} {totals[1] / totals[0]:>7.0%} {totals[2]:>6}")
    if details:
        print("\n".join(lines))


def main() -> None:
    measure("Written with the rules (tests/sensitive_passages.py)", PASSAGES, details=False)
    measure("Held out, then tuned on (tests/sensitive_heldout.py)", HELDOUT, details=True)
    measure("Unseen: never tuned on (tests/sensitive_unseen.py)", UNSEEN, details=True)
    measure("Fresh: a third author's, never tuned on (tests/sensitive_fresh.py)", FRESH, details=True)
    texts = [p[1] for p in PASSAGES + HELDOUT + UNSEEN + FRESH] * 50
    start = time.perf_counter()
    for text in texts:
        list(sensitive.find(text))
    took = time.perf_counter() - start
    print(f"\n{1e6 * took / len(texts):.0f} µs per passage ({len(texts)} passages)")


if __name__ == "__main__":
    main()
