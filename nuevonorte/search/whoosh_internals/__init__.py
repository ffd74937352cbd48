"""Every use of Whoosh's private internals, and nothing else (decision 0001).

The rest of ``nuevonorte.search`` uses only Whoosh's public API (schemas, analysers, queries,
the index, its readers, searchers and writers); ``tests/test_whoosh_internals.py`` checks that
no module outside this package imports anything else from Whoosh. The modules here go further,
for speed and for what the archive promises about deleted words:

- ``codec``: the posting codec, Whoosh 3's with posting blocks and positions packed as arrays;
- ``bulk``: the rebuild, driving the segment writer and its posting pool directly;
- ``matching``: matching, facets and ranking on numpy arrays read from the posting blocks;
- ``scrub``: a segment copied without its deleted documents' words (the purge);
- ``segments``: tables of contents committed by hand, bounded segments, background purges.

They depend on the exact release pinned in ``pyproject.toml``; the test fails on any other, so
that moving to one is a decision taken after re-reading this package, never an install's side
effect. The package imports nothing itself: import the module you need.
"""
