"""Security headers on every response, errors and redirects included (docs/security.md A08)."""

from __future__ import annotations

import threading
import time

from flask import Flask, Response

# No inline script or style and nothing from another origin (M20): every asset is ours.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        # blob: lets the contributor hear their own recording before sending it (made in the
        # page, never fetched from anywhere).
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: Flask-WTF checks the Referer of HTTPS form posts, and
    # same-origin still never tells another site where a visitor came from.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=(self)",
}


#: How long a worker keeps the list of partner origins its pages may load media from.
PARTNER_ORIGINS_SECONDS = 10.0
_origins: dict[str, tuple[float, tuple[str, ...]]] = {}
_origins_lock = threading.Lock()


def partner_origins(app: Flask) -> tuple[str, ...]:
    """The origins of the partner archives whose stories we show (their pictures and recordings
    load from there, never copied), kept a few seconds per worker; none when they cannot be read."""
    key = str(app.config["SQLALCHEMY_DATABASE_URI"])
    now = time.monotonic()
    with _origins_lock:
        kept = _origins.get(key)
        if kept is not None and now - kept[0] < PARTNER_ORIGINS_SECONDS:
            return kept[1]
    from sqlalchemy import select

    from nuevonorte.database import reading
    from nuevonorte.extensions import db
    from nuevonorte.models import Partner
    from nuevonorte.partners.address import origin

    try:
        # A reader of its own, even after a POST: it must never wait for (or hold) the write lock.
        with reading(), db.engine.connect() as conn:
            urls = conn.scalars(select(Partner.url).where(Partner.harvested.is_(True))).all()
    except Exception:  # no table yet (setup), a busy database: no partner's media this time
        urls = []
    found = tuple(sorted({origin(u) for u in urls}))
    with _origins_lock:
        _origins[key] = (now, found)
    return found


def policy(origins: tuple[str, ...]) -> str:
    """The Content-Security-Policy, with partners' origins allowed for pictures and recordings
    only (and nothing else of theirs: no script, style, frame or form)."""
    if not origins:
        return CONTENT_SECURITY_POLICY
    extra = " ".join(origins)
    return CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", f"img-src 'self' data: {extra}").replace(
        "media-src 'self' blob:", f"media-src 'self' blob: {extra}"
    )


def init_app(app: Flask) -> None:
    """Add the headers to every response; HSTS when cookies are Secure (production)."""

    @app.after_request
    def _add_headers(response: Response) -> Response:
        if "Content-Security-Policy" not in response.headers and response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = policy(partner_origins(app))
        present = {name.lower() for name in response.headers.keys()}
        response.headers.extend(
            [(name, value) for name, value in HEADERS.items() if name.lower() not in present]
        )
        if "frame-ancestors *" in response.headers["Content-Security-Policy"]:
            # The one page other websites may frame (``public.embed``): X-Frame-Options has no
            # "any site", and browsers that read it would refuse the frame.
            del response.headers["X-Frame-Options"]
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        response.headers.add("Vary", "Cookie")
        return response
