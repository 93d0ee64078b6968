"""A change to a source takes effect on the very next request, although receiving remembers sources between
requests on PostgreSQL: a rotated secret, a pause, a disable, a source deleted and made again under its name."""

import pytest

from app.extensions import db
from app.inbound import sources as service
from app.models.inbound import SourceState
from tests.inbound import signing
from tests.inbound.conftest import SHOPIFY_SECRET

NEW_SECRET = "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"


def send(client, webhook_id, secret=SHOPIFY_SECRET):
    body = signing.body_of({"id": 5123, "webhook": webhook_id})
    return client.post("/inbound/shop", data=body,
                       headers=signing.shopify(secret, body, webhook_id=webhook_id))


def change(app, action):
    with app.app_context():
        action()
        db.session.commit()


@pytest.mark.parametrize("grace_seconds, old_still_verifies", [(0, False), (3600, True)])
def test_a_rotated_secret_verifies_at_once(app, client, make_source, stored, grace_seconds, old_still_verifies):
    source = make_source("shop")
    assert send(client, "wh-1").json["status"] == "accepted"  # the source is now known to this process

    change(app, lambda: service.rotate_source_secret(source.id, new_secret=NEW_SECRET, grace_seconds=grace_seconds))

    old = send(client, "wh-2")  # first: this process last read the source with the old secret
    assert send(client, "wh-3", NEW_SECRET).json["status"] == "accepted"
    assert (old.status_code == 200) is old_still_verifies
    if not old_still_verifies:
        assert old.status_code == 401 and old.json["reason"] == "bad_signature"
    assert len(stored.events()) == (3 if old_still_verifies else 2)


def test_a_pause_holds_the_next_event_and_a_disable_refuses_it(app, client, make_source, stored, enqueued):
    source = make_source("shop")
    send(client, "wh-1")

    change(app, lambda: service.set_source_state(source.id, SourceState.PAUSED))
    held = send(client, "wh-2")
    change(app, lambda: service.set_source_state(source.id, SourceState.DISABLED))
    refused = send(client, "wh-3")

    assert held.status_code == 200 and held.json["status"] == "accepted"
    assert [e for e, _ in enqueued] == [stored.events(provider_event_id=signing.shopify_id("wh-1"))[0].id]  # wh-2 held
    assert stored.events(provider_event_id=signing.shopify_id("wh-2"))[0].next_attempt_at is None
    assert refused.status_code == 404 and not stored.events(provider_event_id=signing.shopify_id("wh-3"))


def test_a_source_made_again_under_its_name_gets_the_next_event(app, client, make_source, stored):
    first = make_source("shop")
    send(client, "wh-1")

    change(app, lambda: service.delete_source(first.id, force=True))
    gone = send(client, "wh-2")
    second = make_source("shop", secret=NEW_SECRET)
    again = send(client, "wh-3", NEW_SECRET)

    assert gone.status_code == 404
    assert again.status_code == 200 and again.json["status"] == "accepted"
    assert [e.source_id for e in stored.events()] == [second.id]
