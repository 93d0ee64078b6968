"""Manage operational endpoints: the producer's own URLs that receive Hookyard's events (app.delivery.operational).

They are endpoints flagged operational, so creation, changes, rotation and deletion are the endpoint service's,
audited the same way; here their event types are checked against the catalog and each process's cache is told.
"""

from flask_babel import lazy_gettext as _l

from app.delivery import operational
from app.delivery.endpoints import rotation, service
from app.errors import InvalidInput, NotFound

#: What a producer may change on an operational endpoint.
EDITABLE = ("url", "name", "description", "event_types", "alert_on_failure", "state", "state_reason")


def check_event_types(event_types):
    """Return event_types (operational event type names, none repeated) or None for all; raise InvalidInput."""
    if event_types is None:
        return None
    if not isinstance(event_types, list) or not event_types:
        raise InvalidInput(_l("event_types must be a non-empty list of operational event types, or null for all"),
                           field="event_types")
    unknown = [t for t in event_types if t not in operational.EVENT_TYPES]
    if unknown:
        raise InvalidInput(_l("event_types: unknown operational event types %(unknown)s; known: %(event_types)s",
                              unknown=', '.join(map(str, unknown)), event_types=', '.join(operational.EVENT_TYPES)),
                           field="event_types")
    return list(dict.fromkeys(event_types))


def create_operational_endpoint(url, *, actor, event_types=None, **fields):
    """Create an operational endpoint with a new secret; return (endpoint, secret), the only time it is shown."""
    _check_fields(fields)
    endpoint, secret = service.create_endpoint(url, actor=actor, operational=True,
                                               event_types=check_event_types(event_types), **fields)
    operational.forget()
    return endpoint, secret


def get_operational_endpoint(endpoint_id):
    """Return the operational endpoint or raise NotFound (a partner endpoint is not one)."""
    endpoint = service.get_endpoint(endpoint_id)
    if not endpoint.operational:
        raise NotFound(_l("no operational endpoint with id %(endpoint)s", endpoint=endpoint_id))
    return endpoint


def update_operational_endpoint(endpoint_id, changes, *, actor):
    """Apply changes (any of EDITABLE); nothing changes on bad input."""
    get_operational_endpoint(endpoint_id)
    changes = dict(changes)
    _check_fields(changes)
    if "event_types" in changes:
        changes["event_types"] = check_event_types(changes["event_types"])
    endpoint = service.update_endpoint(endpoint_id, changes, actor=actor)
    operational.forget()
    return endpoint


def delete_operational_endpoint(endpoint_id, *, actor):
    """Delete an operational endpoint, cancelling the events still waiting for it; return how many."""
    get_operational_endpoint(endpoint_id)
    cancelled = service.delete_endpoint(endpoint_id, actor=actor, force=True)
    operational.forget()
    return cancelled


def rotate_operational_secret(endpoint_id, *, actor, grace_seconds=None):
    """Rotate an operational endpoint's secret; return (endpoint, new secret)."""
    get_operational_endpoint(endpoint_id)
    return rotation.rotate_secret(endpoint_id, actor=actor, grace_seconds=grace_seconds)


def _check_fields(fields):
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise InvalidInput(_l("unknown operational endpoint settings: %(unknown)s", unknown=', '.join(unknown)),
                           field=unknown[0])
