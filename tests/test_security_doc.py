"""The threat model lives in the repository: every catalogue case a test cites is defined in
``docs/security.md``, so a reader can go from a failing test to the promise it protects."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASE = re.compile(r"\b([UMACFLTB][0-9]{2})\b")


def defined_cases() -> set[str]:
    """The IDs that head a row of the catalogue tables in docs/security.md."""
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| ([UMACFLTB][0-9]{2}) \|", text, flags=re.MULTILINE))


def test_every_case_a_test_cites_is_in_the_catalogue() -> None:
    cited: dict[str, set[str]] = {}
    for path in (ROOT / "tests").rglob("*.py"):
        for case in CASE.findall(path.read_text(encoding="utf-8")):
            cited.setdefault(case, set()).add(path.name)
    defined = defined_cases()
    assert len(defined) > 80  # the catalogue is there at all
    missing = {case: sorted(files) for case, files in cited.items() if case not in defined}
    assert not missing, f"tests cite cases docs/security.md does not define: {missing}"


def test_readme_points_to_the_threat_model() -> None:
    assert "docs/security.md" in (ROOT / "README.md").read_text(encoding="utf-8")
