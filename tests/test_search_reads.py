"""How the search index's files are read (``whoosh_internals.pread``, ``codec.inflate``): the
same bytes as Whoosh's own reads, by other means.

``tests/test_search_matching.py`` compares every term's postings with Whoosh's own files read
by Whoosh itself; these compare the two reading steps on their own: a segment file's ``get``
against a ``StructFile``'s seek and read over the same file (compound and not, within and past
its end, and once closed), and ISA-L's inflate against zlib's on what zlib wrote.
"""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from whoosh.fields import ID, Schema
from whoosh.filedb.filestore import FileStorage

from nuevonorte.search.schema import ANALYZERS, SharedText
from nuevonorte.search.store import USE_MMAP
from nuevonorte.search.whoosh_internals.codec import ArchiveCodec, inflate

WORDS = "casa madre frontera noche río tren carta idioma escuela cocina".split()


@pytest.mark.parametrize("compound", [True, False])
def test_a_segment_files_get_reads_what_a_seek_and_read_read(tmp_path: Path, compound: bool) -> None:
    rng = random.Random(5)
    schema = Schema(sid=ID(unique=True, stored=True), text=SharedText(analyzer=ANALYZERS["es"]))
    ix = FileStorage(str(tmp_path), supports_mmap=USE_MMAP).create_index(schema)  # as the archive
    writer = ix.writer(codec=ArchiveCodec(), compound=compound)
    for n in range(400):
        writer.add_document(sid=str(n), text=" ".join(rng.choices(WORDS, k=rng.randint(1, 60))))
    writer.commit(merge=False)
    with ix.searcher() as s:
        terms = s.reader()._terms
        segment, storage = s.reader().segment(), s.reader()._storage
        read = [(terms._tindex.dbfile, ArchiveCodec.TERMS_EXT), (terms._postfile, ArchiveCodec.POSTS_EXT)]
        for ours, ext in read:
            theirs = segment.open_file(storage, ext)  # Whoosh's own StructFile over the same file
            assert type(theirs) is type(ours) and "get" not in vars(theirs) and "get" in vars(ours)
            theirs.seek(0, 2)
            size = theirs.tell()
            asked = [(0, size), (size, 4), (size - 3, 10), (size + 5, 4), (0, 0)]
            asked += [(rng.randrange(size), rng.randrange(1, 200)) for _ in range(500)]
            for position, length in asked:
                assert ours.get(position, length) == theirs.get(position, length), (position, length)
            theirs.close()
        term_file = terms._tindex.dbfile
    with pytest.raises(ValueError):  # closed with its searcher: never a read of another file
        term_file.get(0, 4)


@given(data=st.binary(max_size=50_000), level=st.integers(min_value=1, max_value=9))
def test_isal_inflates_what_zlib_deflated(data: bytes, level: int) -> None:
    packed = zlib.compress(data, level)
    assert inflate(packed) == zlib.decompress(packed) == data
    assert inflate(memoryview(packed)) == data  # the matcher passes views of the term's bytes


@pytest.mark.parametrize("compound", [True, False])
def test_stored_fields_and_lengths_read_by_pread_and_isal_are_whooshs(tmp_path: Path, compound: bool) -> None:
    """``ArchivePerDocReader``: its column files' ``get`` is one pread and stored fields are
    inflated by ISA-L; every document's stored fields and field lengths are what Whoosh's own
    per-document reader reads from the same segment, deleted documents and empty values too."""
    from whoosh.codec.whoosh3 import W3PerDocReader
    from whoosh.fields import STORED

    from nuevonorte.search.whoosh_internals.codec import ArchivePerDocReader

    rng = random.Random(7)
    schema = Schema(
        sid=ID(unique=True, stored=True),
        text=SharedText(analyzer=ANALYZERS["es"]),
        body=STORED(),
    )
    ix = FileStorage(str(tmp_path), supports_mmap=USE_MMAP).create_index(schema)
    writer = ix.writer(codec=ArchiveCodec(), compound=compound)
    for n in range(300):
        body = " ".join(rng.choices(WORDS, k=rng.randint(0, 400))) + "ñ" * rng.randint(0, 3)
        writer.add_document(sid=str(n), text=" ".join(rng.choices(WORDS, k=rng.randint(1, 30))), body=body)
    writer.commit(merge=False)
    with ix.writer(codec=ArchiveCodec()) as deleting:
        for n in range(0, 300, 7):
            deleting.delete_by_term("sid", str(n))
    with ix.searcher() as s:
        reader = s.reader()
        ours = reader._perdoc
        assert isinstance(ours, ArchivePerDocReader)
        theirs = W3PerDocReader(reader._storage, reader.segment())
        for docnum in range(reader.doc_count_all()):
            assert ours.stored_fields(docnum) == theirs.stored_fields(docnum), docnum
            assert ours.doc_field_length(docnum, "text") == theirs.doc_field_length(docnum, "text")
        assert "get" in vars(ours._colfiles["_stored"][0])
        assert "get" not in vars(theirs._colfiles["_stored"][0])  # Whoosh's seek and read
        theirs.close()
