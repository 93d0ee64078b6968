"""The smoke test: one webhook through the running workers to Hookyard's own echo route, after a deploy.

It goes only to a dedicated endpoint (named SMOKE_ENDPOINT_NAME, subscribed to SMOKE_EVENT_TYPE alone, and
named explicitly in the message), so no partner's endpoint ever receives it; in the monitor it reads as
"Hookyard smoke test", with the reference "smoke test".
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit import CLI
from app.delivery.endpoints.service import create_endpoint
from app.delivery.messages import send_message
from app.errors import InvalidInput
from app.extensions import db
from app.models import Delivery, Endpoint, EndpointState

#: The event type only the smoke test sends, and the endpoint only it uses.
SMOKE_EVENT_TYPE = "hookyard.smoke"
SMOKE_ENDPOINT_NAME = "Hookyard smoke test"
#: The web app's own route that answers every smoke webhook with 200.
ECHO_PATH = "/smoke/echo"
#: How often the delivery is looked at while waiting, in seconds.
POLL_SECONDS = 0.5


@dataclass
class SmokeResult:
    ok: bool
    delivery_id: str
    seconds: float
    detail: str


def echo_url(public_url):
    """Return the echo route under public_url (PUBLIC_URL), or raise InvalidInput when there is none."""
    if not public_url:
        raise InvalidInput(_l("set PUBLIC_URL to the app's address (or pass --url) so the workers can reach it"),
                           field="url")
    return public_url.rstrip("/") + ECHO_PATH


def smoke_endpoint(url):
    """Return the smoke test's endpoint for url, created (audited) on first use; refuse one that is disabled."""
    endpoint = db.session.scalar(select(Endpoint).where(Endpoint.name == SMOKE_ENDPOINT_NAME, Endpoint.url == url))
    if endpoint is None:
        endpoint, _ = create_endpoint(
            url, actor=CLI, name=SMOKE_ENDPOINT_NAME, event_types=[SMOKE_EVENT_TYPE], max_attempts=3,
            description="Used only by `flask --app app smoke` to check that webhooks go out after a deploy; "
                        "it receives nothing else.")
    if endpoint.state is not EndpointState.ENABLED:
        raise InvalidInput(_l("the smoke endpoint %(id)s is %(state)s; enable it on the Endpoints page first",
                              id=endpoint.id, state=endpoint.state.value), field="url")
    return endpoint


def send_smoke(url):
    """Send one smoke webhook to url through the broker; commit and return its delivery id."""
    endpoint = smoke_endpoint(url)
    message, _ = send_message(SMOKE_EVENT_TYPE, {"smoke": True, "sent_at": datetime.now(UTC).isoformat()},
                              reference="smoke test", tags=["smoke"], endpoint_ids=[endpoint.id])
    db.session.commit()
    return message.deliveries[0].id


def wait_for_smoke(delivery_id, timeout, poll=POLL_SECONDS):
    """Wait until the delivery succeeds (ok) or fails for good, or timeout s pass; say what happened."""
    started = time.monotonic()
    while True:
        db.session.expire_all()
        delivery = db.session.get(Delivery, delivery_id)
        seconds = time.monotonic() - started
        if delivery.status.value == "succeeded":
            return SmokeResult(True, delivery_id, seconds, f"HTTP {delivery.last_response_status}")
        if delivery.status.value == "failed" or seconds >= timeout:
            return SmokeResult(False, delivery_id, seconds, _what_failed(delivery, timeout))
        db.session.rollback()  # end the read transaction, so the next look sees the workers' commits
        time.sleep(poll)


def _what_failed(delivery, timeout):
    if delivery.attempt_count == 0:
        return (f"no attempt within {timeout:g} s: are the workers running, and do they reach the broker? "
                f"(status {delivery.status.value})")
    error = delivery.last_error or f"HTTP {delivery.last_response_status}"
    return f"{delivery.attempt_count} attempt(s), status {delivery.status.value}, last error: {error}"
