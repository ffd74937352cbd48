"""Reading an index folder as an adversary would: every file's raw bytes, with every zlib stream
in it inflated (Whoosh compresses stored fields), looking for a word in each form the analysers
may have written it as (as typed, accent-folded, stemmed in each language)."""

from __future__ import annotations

import zlib
from pathlib import Path


def forms(word: str) -> set[str]:
    """The word and every form the index may hold it as."""
    from nuevonorte.search.schema import ANALYZERS, fold

    return {word, fold(word)} | {t.text for analyzer in ANALYZERS.values() for t in analyzer(word)}


def readable(data: bytes) -> bytes:
    """``data`` followed by the inflated content of every zlib stream found inside it."""
    out = [data]
    for i in range(len(data) - 1):
        if data[i] == 0x78 and (data[i] << 8 | data[i + 1]) % 31 == 0:
            try:
                out.append(zlib.decompressobj().decompress(data[i : i + (1 << 20)]))
            except zlib.error:
                continue
    return b"\n".join(out)


def files_holding(root: Path, word: str, purged: bool = True) -> list[str]:
    """The files under ``root`` (every build, every segment) that hold ``word`` in any form
    (after this process's index maintenance, unless ``purged`` is False)."""
    return words_in(root, [word], purged).get(word, [])


def words_in(root: Path, words: list[str], purged: bool = True) -> dict[str, list[str]]:
    """For each of ``words`` found in any form under ``root``, the files holding it.

    With ``purged`` (the default), this process's background index maintenance is waited for
    first: a withdrawal's words leave the files a few seconds after its commit, not during it
    (docs/decisions/0007); ``purged=False`` reads the files as they are this instant."""
    if purged:
        from nuevonorte.search.whoosh_internals import segments

        segments.wait()
    needles = {w: [f.encode() for f in forms(w) if len(f) >= 4] for w in words}
    found: dict[str, list[str]] = {}
    if not root.exists():
        return found
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            content = readable(path.read_bytes())
            for word, forms_of_word in needles.items():
                if any(n in content for n in forms_of_word):
                    found.setdefault(word, []).append(str(path.relative_to(root)))
    return found
