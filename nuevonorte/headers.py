"""Security headers on every response, errors and redirects included (docs/security.md A08)."""

from __future__ import annotations

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


def init_app(app: Flask) -> None:
    """Add the headers to every response; HSTS when cookies are Secure (production)."""

    @app.after_request
    def _add_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if "frame-ancestors *" in response.headers["Content-Security-Policy"]:
            # The one page other websites may frame (``public.embed``): X-Frame-Options has no
            # "any site", and browsers that read it would refuse the frame.
            del response.headers["X-Frame-Options"]
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        response.headers.add("Vary", "Cookie")
        return response
