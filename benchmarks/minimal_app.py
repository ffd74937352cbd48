"""The baseline for benchmarks/pages.py: the smallest Flask page, served the same way."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """A tiny HTML page."""
    return "<!doctype html><title>ok</title><p>ok</p>"
