"""Inbound rows for the sources, actions and API tests (until tests/support/factories.py has its own)."""

import uuid
from datetime import timedelta

from app.audit import Actor
from app.extensions import db
from app.inbound.sources import create_source
from app.models import InboundEvent, InboundHandle, InboundStatus, utcnow

#: A Shopify order body the handlers and forwarding tests process.
BODY = b'{"id": 5123, "order_number": 1005, "line_items": [{"sku": "A"}]}'

ADMIN = Actor("admin@example.com", "127.0.0.1")


def new_source(app, name="shop", provider="shopify", **options):
    """Create a source; return (id, shown secret)."""
    with app.app_context():
        source, shown = create_source(name=name, provider=provider, actor=ADMIN, **options)
        return source.id, shown


def new_event(app, source_id, *, status=InboundStatus.FAILED, topic="orders/fulfilled", provider_event_id=None,
              body=b'{"id": 5123, "order_number": 1005}', handles=(), age_seconds=0, **values):
    """Insert a stored inbound event; return its id."""
    with app.app_context():
        event = InboundEvent(
            source_id=source_id, provider_event_id=provider_event_id or str(uuid.uuid4()),
            topic=topic, received_at=utcnow() - timedelta(seconds=age_seconds), body=body,
            body_bytes=len(body or b""), content_type="application/json",
            headers={"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": "••••"}, status=status, **values)
        db.session.add(event)
        db.session.flush()
        db.session.add_all(InboundHandle(event_id=event.id, handle=h) for h in handles)
        db.session.commit()
        return event.id


def load_event(app, event_id):
    with app.app_context():
        event = db.session.get(InboundEvent, event_id)
        db.session.expunge(event)
        return event
