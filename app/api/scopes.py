"""Scopes on API routes: each route names the scope a key needs, and a key without it gets 403."""

import functools

from flask import g

from app.api.errors import ApiError
from app.auth.api_keys import SCOPES, allows


def require_scope(scope):
    """Decorate an API view so only keys allowed scope reach it (the OpenAPI document lists it too)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorate(view):
        @functools.wraps(view)
        def scoped(*args, **kwargs):
            check_scope(scope)
            return view(*args, **kwargs)

        scoped.required_scope = scope
        return scoped

    return decorate


def check_scope(scope):
    """Refuse this request (403) unless its key is allowed scope."""
    if not allows(g.api_key, scope):
        raise ApiError(403, f"this API key lacks the {scope} scope")


def also_require(scope, why):
    """Refuse this request (403) unless its key is allowed scope too, saying why the request needs it."""
    if not allows(g.api_key, scope):
        raise ApiError(403, f"this API key lacks the {scope} scope: {why}")
