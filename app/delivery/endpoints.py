"""Create and look up endpoints."""

from flask import current_app

from app.audit import SYSTEM, record
from app.delivery import matching, secrets, signing
from app.delivery.addresses import check_url, policy_for
from app.delivery.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Endpoint, SigningScheme


def outbound_policy():
    """Return the address policy configured for this app."""
    return policy_for(tuple(current_app.config["WEBHOOK_ALLOWED_NETWORKS"]))


def check_timeout(timeout_seconds):
    """Return a valid per-attempt timeout or raise InvalidInput."""
    limit = current_app.config["WEBHOOK_MAX_TIMEOUT_SECONDS"]
    if not isinstance(timeout_seconds, int) or isinstance(timeout_seconds, bool) or not 1 <= timeout_seconds <= limit:
        raise InvalidInput(f"timeout_seconds must be a whole number from 1 to {limit}", field="timeout_seconds")
    return timeout_seconds


def check_max_attempts(max_attempts):
    """Return a valid attempt budget or raise InvalidInput."""
    if not isinstance(max_attempts, int) or isinstance(max_attempts, bool) or not 1 <= max_attempts <= 50:
        raise InvalidInput("max_attempts must be a whole number from 1 to 50", field="max_attempts")
    return max_attempts


def create_endpoint(url, *, actor=SYSTEM, name=None, event_types=None, signing_scheme="standard",
                    timeout_seconds=None, max_attempts=None):
    """Create an endpoint with a new secret; return (endpoint, secret). The secret is not kept in clear."""
    config = current_app.config
    check_url(url, outbound_policy())
    try:
        scheme = SigningScheme(signing_scheme)
    except ValueError:
        choices = ", ".join(s.value for s in SigningScheme)
        raise InvalidInput(f"signing must be one of {choices}", field="signing") from None
    secret = signing.generate_secret()
    endpoint = Endpoint(
        url=url,
        name=name,
        event_types=matching.check_patterns(event_types),
        signing=scheme,
        secret_encrypted=secrets.encrypt(secret),
        timeout_seconds=check_timeout(
            config["WEBHOOK_TIMEOUT_SECONDS"] if timeout_seconds is None else timeout_seconds
        ),
        max_attempts=check_max_attempts(
            len(config["WEBHOOK_RETRY_SCHEDULE"]) + 1 if max_attempts is None else max_attempts
        ),
    )
    db.session.add(endpoint)
    db.session.flush()
    record(actor, "endpoint.create", f"created endpoint {endpoint.url}", target_type="endpoint",
           target_ids=[endpoint.id], after=describe(endpoint))
    db.session.commit()
    return endpoint, secret


def describe(endpoint):
    """Return the endpoint's settings as a dict for the audit log; the secret is never part of it."""
    return {
        "url": endpoint.url, "name": endpoint.name, "event_types": endpoint.event_types,
        "signing": endpoint.signing.value, "timeout_seconds": endpoint.timeout_seconds,
        "max_attempts": endpoint.max_attempts, "state": endpoint.state.value,
    }


def get_endpoint(endpoint_id):
    """Return the endpoint or raise NotFound."""
    endpoint = db.session.get(Endpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"no endpoint with id {endpoint_id}")
    return endpoint
