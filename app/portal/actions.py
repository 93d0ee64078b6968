"""What a portal link lets a partner do, each through the operation staff use, under the same caps and cooldowns,
audited with the partner (portal:<link id>) as the actor. Every action checks the link's capability and scope."""

from flask_babel import lazy_gettext as _l

from app.audit import Action, record
from app.credentials import crypto
from app.delivery.endpoints import actions as endpoint_actions
from app.delivery.endpoints import rotation
from app.delivery.endpoints import service as endpoint_service
from app.delivery.operations import deliveries as operations
from app.errors import NotFound
from app.extensions import db
from app.portal import scope
from app.portal.links import partner_actor
from app.staff.retry_cap import check_retry_cap
from app.staff.settings import get_setting


class NotAllowed(NotFound):
    """Raised when a link lacks the capability an action needs: answered like an unknown page."""


def _need(link, capability):
    if not link.allows(capability):
        raise NotAllowed("this link does not allow that")


def retry_or_replay(link, delivery_id, verb, ip=None):
    """Retry (failed or pending) or replay (any status) one of the link's deliveries; the link needs replay."""
    _need(link, "replay")
    scope.delivery(link, delivery_id)
    actor = partner_actor(link, ip)
    check_retry_cap(actor)
    operation = operations.replay_delivery if verb == "replay" else operations.retry_delivery
    return operation(delivery_id, actor=actor, cooldown_seconds=get_setting("retry_cooldown_seconds"))


def send_test(link, endpoint_id, ip=None):
    """Send webhook.test to one of the link's endpoints now; the link needs manage."""
    _need(link, "manage")
    scope.endpoint(link, endpoint_id)
    return endpoint_actions.send_test_event(endpoint_id, actor=partner_actor(link, ip))


def change_settings(link, endpoint_id, url, event_types, ip=None):
    """Change an endpoint's URL and event-type filter (None or [] receives every event); the link needs manage."""
    _need(link, "manage")
    scope.endpoint(link, endpoint_id)
    return endpoint_service.update_endpoint(endpoint_id, {"url": url, "event_types": event_types or None},
                                            actor=partner_actor(link, ip))


def rotate_secret(link, endpoint_id, grace_seconds, ip=None):
    """Rotate an endpoint's secret with a grace period; return (endpoint, new secret); the link needs manage."""
    _need(link, "manage")
    scope.endpoint(link, endpoint_id)
    return rotation.rotate_secret(endpoint_id, actor=partner_actor(link, ip), grace_seconds=grace_seconds)


def reveal_secret(link, endpoint_id, ip=None):
    """Return an endpoint's current signing secret, audited; the link needs secret."""
    _need(link, "secret")
    row = scope.endpoint(link, endpoint_id)
    secret = crypto.decrypt(row.secret_encrypted)
    record(partner_actor(link, ip), Action.PORTAL_SECRET_VIEW, _l("read the signing secret of %(url)s", url=row.url),
           target_type="endpoint", target_ids=[row.id])
    db.session.commit()
    return secret
