"""Small helpers the API's route modules share."""

import re

from flask import request

from app.api.errors import ApiError


def int_arg(name, default, low, high):
    """Return the query string's whole number name, from low to high (default when absent); 422 otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?[0-9]{1,9}", raw):
        raise ApiError(422, f"{name} must be a whole number", name)
    value = int(raw)
    if not low <= value <= high:
        raise ApiError(422, f"{name} must be from {low} to {high}", name)
    return value


def page_args():
    """Return (page, per_page) from the query string: page from 1 (default 1), per_page 1 to 100 (default 20)."""
    return int_arg("page", 1, 1, 100_000), int_arg("per_page", 20, 1, 100)


def flag_arg(name):
    """Return the query string's flag name as a bool: "true" or "false" (default when absent); 422 otherwise."""
    raw = request.args.get(name, "false")
    if raw not in ("true", "false"):
        raise ApiError(422, f"{name} must be true or false", name)
    return raw == "true"
