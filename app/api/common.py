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
