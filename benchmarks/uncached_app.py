"""The archive with its page cache off, for benchmarks/pages.py: every page rendered for its request."""

from nuevonorte import create_app

app = create_app({"PUBLIC_PAGE_CACHE_SECONDS": 0})
