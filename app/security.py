"""Security headers on every response: a strict Content-Security-Policy with per-request nonces, no framing,
no MIME sniffing, a referrer policy. Flask-Talisman sets them; this module says what they are.

The staff pages satisfy the policy: scripts and styles come from /static or Flask-Admin's static
folder, or carry the request's nonce; templates use no inline handlers (onclick=...) and no style=
attributes (Flask-Admin's stock templates that did are overridden in templates/admin/). Data goes to
scripts through data-* attributes.
"""

from flask import request
from flask_talisman import Talisman

from app.request_hooks import API_BLUEPRINTS

#: Everything from this site only; nothing inline unless it carries the request's nonce; never framed.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",  # Bootstrap draws form-control icons as data: SVGs
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

#: The headers of a JSON answer (app.request_hooks.API_BLUEPRINTS): nothing it could load or run, never framed,
#: never sniffed as something else; Strict-Transport-Security is added on https as for pages.
JSON_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}

talisman = Talisman()


def set_json_headers(response):
    """Give an API answer JSON_HEADERS (and HSTS on https); a page's headers come from Talisman."""
    if request.blueprint in API_BLUEPRINTS:
        response.headers.update(JSON_HEADERS)
        talisman._set_hsts_headers(response.headers)  # Talisman's own rule and value, as for pages
    return response


def init_security_headers(app):
    """Send the security headers on every response of app; templates get csp_nonce().

    IMPORTANT: inside app.request_hooks.pages_only, which keeps Talisman's hooks off API requests; the API's
    headers (set_json_headers) are registered outside it by create_app.
    """
    talisman.init_app(
        app,
        force_https=False,  # the platform's router terminates TLS and redirects; ProxyFix tells us the scheme
        strict_transport_security=True,  # sent on https requests only
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],  # keep the configured choice
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["script-src", "style-src"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        x_content_type_options=True,
        x_xss_protection=False,  # obsolete; the CSP is the protection
    )
