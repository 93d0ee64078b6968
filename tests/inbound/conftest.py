"""Inbound sources made directly as rows (their management lives in app.inbound.sources), and a recorder of the
events handed to the workers after commit."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app import outbox
from app.credentials import crypto
from app.extensions import db
from app.inbound.handlers import inbound_handler, remove_handler
from app.models import utcnow
from app.models.inbound import InboundCount, InboundEvent, InboundRejection, InboundSource, Provider, SourceState

SHOPIFY_SECRET = "shpss_0123456789abcdef0123456789abcdef"
STRIPE_SECRET = "whsec_test_5a1d8e8c1b9f4f6f8a3e2d1c0b9a8f7e"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
GITHUB_SECRET = "It's a Secret to Everybody"
ZOHO_TOKEN = "zoho-token-4f1c9a7e5b3d2c1a"
SECRETS = {Provider.SHOPIFY: SHOPIFY_SECRET, Provider.STRIPE: STRIPE_SECRET, Provider.STANDARD: STANDARD_SECRET,
           Provider.GITHUB: GITHUB_SECRET, Provider.ZOHO: ZOHO_TOKEN}


@pytest.fixture
def make_source(app):
    """Create a source row; retired: [(secret, seconds until it expires)]; returns its name and id."""

    def make(name="shop", provider=Provider.SHOPIFY, secret=None, state=SourceState.ENABLED, retired=(), **columns):
        now = utcnow()
        with app.app_context():
            source = InboundSource(
                name=name, provider=provider, secret_encrypted=crypto.encrypt(secret or SECRETS[provider]),
                retired_secrets=[{"secret": crypto.encrypt(s), "expires_at": (now + timedelta(seconds=t)).isoformat()}
                                 for s, t in retired], state=state, **columns)
            db.session.add(source)
            db.session.commit()
            return SimpleNamespace(id=source.id, name=name)

    return make


@pytest.fixture
def enqueued():
    """The (event id, trigger) pairs handed to the workers after each commit."""
    seen = []

    def record(sender, items):
        seen.extend(items)

    outbox.inbound_committed.connect(record)
    yield seen
    outbox.inbound_committed.disconnect(record)


@pytest.fixture
def stored(app):
    """Read back what receiving wrote: events, rejections, counts."""

    class Stored:
        def events(self, **where):
            with app.app_context():
                rows = db.session.scalars(select(InboundEvent).filter_by(**where).order_by(InboundEvent.received_at))
                return [SimpleNamespace(**{c.key: getattr(r, c.key) for c in InboundEvent.__table__.columns})
                        for r in rows]

        def rejections(self, **where):
            with app.app_context():
                rows = db.session.scalars(select(InboundRejection).filter_by(**where).order_by(InboundRejection.id))
                return [SimpleNamespace(**{c.key: getattr(r, c.key) for c in InboundRejection.__table__.columns})
                        for r in rows]

        def count(self, source_name, kind):
            with app.app_context():
                return db.session.scalar(select(func.coalesce(func.sum(InboundCount.count), 0)).where(
                    InboundCount.source_name == source_name, InboundCount.kind == kind))

        def handles(self, event_id):
            from app.models.inbound import InboundHandle

            with app.app_context():
                return set(db.session.scalars(select(InboundHandle.handle).where(InboundHandle.event_id == event_id)))

    return Stored()


@pytest.fixture
def handlers():
    """Register handlers for one test: handlers(provider, topic)(function); all removed afterwards."""
    added = []

    def register(provider="shopify", topic="orders/fulfilled"):
        def decorate(function):
            added.append(function)
            return inbound_handler(provider, topic)(function)
        return decorate

    yield register
    for function in added:
        remove_handler(function)


@pytest.fixture
def sent():
    """What the outbox hands the workers: {"now": [(id, trigger)], "later": [(id, delay)]}."""
    seen = {"now": [], "later": []}

    def now(sender, items):
        seen["now"].extend(items)

    def later(sender, items):
        seen["later"].extend(items)

    outbox.inbound_committed.connect(now)
    outbox.inbound_retries_committed.connect(later)
    yield seen
    outbox.inbound_committed.disconnect(now)
    outbox.inbound_retries_committed.disconnect(later)
