"""The search package reaches into Whoosh's private internals (decision 0001): the bulk rebuild
drives its segment writer and posting pool (``search/bulk.py``), the codec and the matching read
its posting blocks (``codec.py``, ``matching.py``, ``scrub.py``), and the segments module commits
tables of contents by hand (``segments.py``). None of that is Whoosh's public API, so only the
exact pin in ``pyproject.toml`` keeps it working. This test fails on any other Whoosh, so that
moving to one is a decision, taken after re-reading those modules, and never a side effect of
an install."""

from __future__ import annotations

from importlib.metadata import version

from whoosh.codec import whoosh3
from whoosh.writing import PostingPool, SegmentWriter

#: The pinned release; the package whose internals were read against it.
PINNED = ("whoosh-reloaded", "2.7.5")


def test_the_installed_whoosh_is_the_release_the_search_package_was_written_against() -> None:
    name, pinned = PINNED
    assert version(name) == pinned, (
        f"{name} {version(name)} is installed, but nuevonorte/search/ uses Whoosh {pinned}'s private "
        "internals: re-read bulk.py, codec.py, matching.py, scrub.py and segments.py against it first"
    )


def test_the_private_methods_the_rebuild_calls_exist() -> None:
    """What ``search/bulk.py`` and ``segments.py`` call by name, beyond the public API."""
    for cls, names in (
        (SegmentWriter, ("_finalize_segment", "_close_segment", "_commit_toc", "_finish")),
        (PostingPool, ("_open_run", "_remove_run")),
    ):
        missing = [name for name in names if not callable(getattr(cls, name, None))]
        assert not missing, f"{cls.__name__} lacks {missing}"
    # codec.py replaces this method to pickle posting blocks with a faster protocol.
    assert callable(getattr(whoosh3.W3PostingsWriter, "_write_block", None))
