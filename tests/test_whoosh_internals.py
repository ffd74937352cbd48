"""Whoosh's private internals are used in one package only (decision 0001).

``nuevonorte/search/whoosh_internals/`` drives Whoosh's segment writer and posting pool (the bulk
rebuild), reads and writes its posting blocks (codec, matching, purge) and commits tables of
contents by hand (segments). None of that is Whoosh's public API, so only the exact pin in
``pyproject.toml`` keeps it working. These tests fail on any other Whoosh, so that moving to one
is a decision taken after re-reading that package and never a side effect of an install, and they
fail when any other module of the archive reaches past Whoosh's public API.
"""

from __future__ import annotations

import ast
from importlib.metadata import version
from pathlib import Path

from whoosh.codec import whoosh3
from whoosh.writing import PostingPool, SegmentWriter

import nuevonorte

#: The pinned release; the package whose internals were read against it.
PINNED = ("whoosh-reloaded", "2.7.5")

PACKAGE = Path(nuevonorte.__file__).parent
INTERNALS = PACKAGE / "search" / "whoosh_internals"

#: Whoosh's public API, as documented for 2.7: what any module outside the internals package may
#: import. Anything else (``whoosh.codec``, ``whoosh.util``, ``whoosh.system``, ``whoosh.matching``,
#: ``PostingPool``, ``TOC`` …) belongs in the internals package.
PUBLIC_API = {
    "whoosh.analysis": {
        "Analyzer",
        "CharsetFilter",
        "LowercaseFilter",
        "RegexTokenizer",
        "Token",
        "Tokenizer",
    },
    "whoosh.fields": {"ID", "KEYWORD", "STORED", "TEXT", "Schema"},
    "whoosh.lang": {"stopwords_for_language"},
    "whoosh.support.charset": {"accent_map"},
    "whoosh.query": {"And", "Every", "Or", "Phrase", "Query", "Term"},
    "whoosh.searching": {"Searcher"},
    "whoosh.reading": {"IndexReader"},
    "whoosh.writing": {"SegmentWriter"},
    "whoosh.index": {"FileIndex", "LockError"},
    "whoosh.filedb.filestore": {"FileStorage"},
    "whoosh": {"index"},
}


def whoosh_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for each name ``path`` imports from Whoosh (name "" for ``import whoosh.x``)."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "whoosh":
            found += [(node.module or "", alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names if alias.name.split(".")[0] == "whoosh"]
    return found


def test_the_installed_whoosh_is_the_release_the_search_package_was_written_against() -> None:
    name, pinned = PINNED
    assert version(name) == pinned, (
        f"{name} {version(name)} is installed, but nuevonorte/search/whoosh_internals/ uses Whoosh "
        f"{pinned}'s private internals: re-read that package against it first"
    )


def test_only_the_internals_package_reaches_past_the_public_api() -> None:
    """Every Whoosh import outside ``whoosh_internals/`` names a module and class of the public
    API; the internals package is where the others are (the check would pass vacuously were it
    to import nothing private)."""
    outside = {
        f"{path.relative_to(PACKAGE)}: {module}.{name}"
        for path in PACKAGE.rglob("*.py")
        if INTERNALS not in path.parents
        for module, name in whoosh_imports(path)
        if name not in PUBLIC_API.get(module, set())
    }
    assert not outside, f"Whoosh internals used outside search/whoosh_internals/: {sorted(outside)}"
    inside = {module for path in INTERNALS.glob("*.py") for module, _ in whoosh_imports(path)}
    assert {"whoosh.codec.whoosh3", "whoosh.system", "whoosh.util.numeric"} <= inside


def test_the_private_methods_the_rebuild_calls_exist() -> None:
    """What ``bulk.py`` and ``segments.py`` call by name, beyond the public API."""
    for cls, names in (
        (SegmentWriter, ("_finalize_segment", "_close_segment", "_commit_toc", "_finish")),
        (PostingPool, ("_open_run", "_remove_run")),
    ):
        missing = [name for name in names if not callable(getattr(cls, name, None))]
        assert not missing, f"{cls.__name__} lacks {missing}"
    # codec.py replaces these to write and read posting blocks packed as arrays.
    assert callable(getattr(whoosh3.W3PostingsWriter, "_write_block", None))
    assert callable(getattr(whoosh3.W3PostingsWriter, "_mini_values", None))
    assert callable(getattr(whoosh3.W3LeafMatcher, "_read_data", None))
    assert callable(getattr(whoosh3.W3Codec, "postings_reader", None))
