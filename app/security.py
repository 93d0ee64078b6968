"""Security headers on every response: a strict Content-Security-Policy with per-request nonces, no framing,
no MIME sniffing, a referrer policy. Flask-Talisman sets them; this module says what they are.

The staff pages satisfy the policy: scripts and styles come from /static or Flask-Admin's static
folder, or carry the request's nonce; templates use no inline handlers (onclick=...) and no style=
attributes (Flask-Admin's stock templates that did are overridden in templates/admin/). Data goes to
scripts through data-* attributes.
"""

from flask import request
from flask_talisman import Talisman

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

#: Blueprints that answer only JSON: no page, script or style, so no nonce or page policy to build per request.
JSON_BLUEPRINTS = frozenset({"api"})
#: The headers of a JSON answer: nothing it could load or run, never framed, never sniffed as something else;
#: Strict-Transport-Security is added on https as for pages.
JSON_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


class _Headers(Talisman):
    """Talisman, with the JSON blueprints' fixed headers set at once (building the page policy per request was
    a tenth of an API call's CPU)."""

    def _force_https(self):
        return None if request.blueprint in JSON_BLUEPRINTS else super()._force_https()

    def _make_nonce(self):
        return None if request.blueprint in JSON_BLUEPRINTS else super()._make_nonce()

    def _set_response_headers(self, response):
        if request.blueprint not in JSON_BLUEPRINTS:
            return super()._set_response_headers(response)
        response.headers.update(JSON_HEADERS)
        self._set_hsts_headers(response.headers)
        return response


talisman = _Headers()


def init_security_headers(app):
    """Send the security headers on every response of app; templates get csp_nonce()."""
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
