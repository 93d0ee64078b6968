"""A resend that succeeds settles the failed delivery it was sent for: resolved, "superseded by" it, audited."""

from sqlalchemy import select

from app.audit import Action, Actor
from app.delivery.attempt.superseded import superseding_id
from app.delivery.operations.resend import resend_delivery
from app.extensions import db
from app.models import AuditEntry, Delivery, DeliveryStatus
from tests.delivery.test_attempts import attempt
from tests.support.factories import load, send
from tests.support.receiver import Reply

OPERATOR = Actor("operator@example.com")


def resend(app, delivery_id, payload):
    """Edit and resend a delivery; return the new delivery's id."""
    with app.app_context():
        return resend_delivery(delivery_id, payload, actor=OPERATOR).deliveries[0].id


def failed_to_both(app, make_endpoint, receiver):
    """One message failed at two endpoints (HTTP 422); return (delivery to the first, delivery to the second)."""
    make_endpoint(name="Shop")
    make_endpoint(name="Billing")
    receiver.default = Reply(422, b'{"error": "unknown sku"}')
    _, ids = send(app, payload={"sku": "A"})
    for delivery_id in ids:
        assert attempt(app, delivery_id)
    assert {load(app, i).status for i in ids} == {DeliveryStatus.FAILED}
    return ids


def test_a_resend_that_succeeds_settles_the_original_at_its_endpoint_only(app, make_endpoint, receiver):
    shop, billing = failed_to_both(app, make_endpoint, receiver)
    new = resend(app, shop, {"sku": "A-1"})
    receiver.default = Reply(200)
    assert attempt(app, new)

    original = load(app, shop)
    assert original.status is DeliveryStatus.FAILED and original.resolved_at is not None
    assert (original.resolved_by, superseding_id(original.resolved_note)) == ("system", new)
    assert load(app, billing).resolved_at is None  # the resend went to the shop only
    with app.app_context():
        (entry,) = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == Action.DELIVERIES_SUPERSEDED.value)).all()
        assert (entry.actor, entry.target_ids, entry.after) == ("system", [shop, new], {"superseded_by": new})


def test_a_resend_that_fails_settles_nothing_and_a_later_one_settles_the_chain(app, make_endpoint, receiver):
    shop, _ = failed_to_both(app, make_endpoint, receiver)
    first = resend(app, shop, {"sku": "A-1"})
    assert attempt(app, first)  # still refused
    assert load(app, first).status is DeliveryStatus.FAILED
    assert load(app, shop).resolved_at is None

    second = resend(app, first, {"sku": "A-2"})
    receiver.default = Reply(200)
    assert attempt(app, second)
    for settled in (shop, first):
        assert superseding_id(load(app, settled).resolved_note) == second
    with app.app_context():
        assert db.session.scalar(select(Delivery.resolved_at).where(Delivery.id == second)) is None


def test_a_resolution_by_a_person_is_left_as_it_was(app, make_endpoint, receiver):
    shop, _ = failed_to_both(app, make_endpoint, receiver)
    with app.app_context():
        from app.delivery.operations.deliveries import resolve_delivery
        resolve_delivery(shop, "partner fixed it by hand", actor=OPERATOR)
    new = resend(app, shop, {"sku": "A-1"})
    receiver.default = Reply(200)
    assert attempt(app, new)
    original = load(app, shop)
    assert (original.resolved_by, original.resolved_note) == ("operator@example.com", "partner fixed it by hand")
    assert superseding_id(original.resolved_note) is None
