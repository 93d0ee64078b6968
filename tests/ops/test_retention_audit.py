import json
from datetime import timedelta

from sqlalchemy import select

from app.audit import Actor
from app.delivery.operations.resend import resend_delivery
from app.extensions import db
from app.models import AuditEntry, utcnow
from tests.support.factories import detached, send, update

ORIGINAL = {"order": "A-1", "email": "buyer@example.com", "address": {"city": "Lyon"}}
#: What retention leaves of each payload value in a diff.
PURGED = "(purged by retention)"
EDITED = {"order": "A-1", "email": "buyer.new@example.com", "address": {"city": "Nantes"}}


def resend(app, delivery_id, days_ago):
    """Resend a delivery with an edited payload, as staff do; make its audit entry days_ago old; return its id."""
    with app.app_context():
        resend_delivery(delivery_id, EDITED, actor=Actor("ops@example.com", "10.0.0.7"))
        entry_id = db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "message.resend")
                                     .order_by(AuditEntry.id.desc()))
    update(app, AuditEntry, entry_id, at=utcnow() - timedelta(days=days_ago))
    return entry_id


def entry(app, entry_id):
    return detached(app, AuditEntry, entry_id)


def test_edited_resends_lose_the_payload_in_their_audit_diff_with_the_payloads_but_keep_who_what_when(
        app, runner, make_endpoint):
    make_endpoint()
    _, (delivery_id,) = send(app, payload=ORIGINAL)
    old_id, recent_id = resend(app, delivery_id, days_ago=8), resend(app, delivery_id, days_ago=6)
    kept_before = entry(app, old_id)
    assert kept_before.before == {"payload": {"email": "buyer@example.com", "address.city": "Lyon"}}

    result = runner.invoke(args=["retention", "run", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "payloads in audit entries: 1" in result.output
    old = entry(app, old_id)
    assert old.before == {"payload": {"email": PURGED, "address.city": PURGED}}
    assert old.after == {"payload": {"email": PURGED, "address.city": PURGED}}
    assert "example.com" not in json.dumps([old.before, old.after]) and "Lyon" not in json.dumps(old.before)
    assert (old.actor, old.ip, old.action, old.summary, old.target_ids, old.at) == (
        kept_before.actor, "10.0.0.7", "message.resend", kept_before.summary, kept_before.target_ids, kept_before.at)
    assert old.payload_purged_at is not None
    recent = entry(app, recent_id)
    assert recent.after == {"payload": {"email": "buyer.new@example.com", "address.city": "Nantes"}}
    assert recent.payload_purged_at is None
    assert "payloads in audit entries: 0" in runner.invoke(args=["retention", "run"]).output  # never twice


def test_the_30_day_choice_keeps_audit_payloads_longer_and_other_entries_are_untouched(app, runner, make_endpoint):
    from app.staff.settings import set_setting

    make_endpoint()
    _, (delivery_id,) = send(app, payload=ORIGINAL)
    entry_id = resend(app, delivery_id, days_ago=8)
    with app.app_context():
        set_setting("payload_retention_days", "30", actor=Actor("admin@example.com"))
        setting_id = db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "setting.update"))
    update(app, AuditEntry, setting_id, at=utcnow() - timedelta(days=60))
    assert "payloads in audit entries: 0" in runner.invoke(args=["retention", "run"]).output
    update(app, AuditEntry, entry_id, at=utcnow() - timedelta(days=31))
    assert "payloads in audit entries: 1" in runner.invoke(args=["retention", "run"]).output
    setting = entry(app, setting_id)
    assert setting.after == {"payload_retention_days": 30} and setting.payload_purged_at is None
