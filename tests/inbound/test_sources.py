import base64
import sys
import types
from datetime import timedelta

import pytest
from standardwebhooks import Webhook

from app.credentials import crypto
from app.credentials.rotation import live_secrets
from app.errors import IllegalTransition, InvalidInput, NotFound
from app.extensions import db
from app.inbound import sources
from app.models import AuditEntry, InboundCount, InboundEvent, InboundSource, InboundStatus, SourceState, utcnow
from tests.inbound.sources_helpers import ADMIN, new_event, new_source


def _audit(app, action):
    with app.app_context():
        return db.session.query(AuditEntry).filter_by(action=action).all()


def test_create_generates_a_secret_shown_once_and_stored_encrypted(app):
    source_id, shown = new_source(app, "shop", "standard")
    assert shown.startswith("whsec_") and len(base64.b64decode(shown[6:])) == 32
    Webhook(shown)  # a secret its library takes as it is
    with app.app_context():
        source = db.session.get(InboundSource, source_id)
        assert source.secret_encrypted != shown and crypto.decrypt(source.secret_encrypted) == shown
        assert (source.url_path, source.state, source.tolerance_seconds) == ("/inbound/shop", SourceState.ENABLED, 300)
    (entry,) = _audit(app, "inbound_source.create")
    assert entry.after["name"] == "shop" and shown not in str(entry.after) and entry.actor == ADMIN.name


def test_a_given_secret_is_kept_and_not_shown_again(app):
    source_id, shown = new_source(app, "stripe-live", "stripe", secret="whsec_test_abcdefgh\n")
    assert shown is None
    with app.app_context():
        assert live_secrets(db.session.get(InboundSource, source_id)) == ["whsec_test_abcdefgh"]


def test_zoho_gets_a_token_zoho_accepts_and_default_options(app):
    source_id, shown = new_source(app, "books", "zoho")
    assert shown.isalnum() and 12 <= len(shown) <= 50
    with app.app_context():
        assert db.session.get(InboundSource, source_id).options == {"token_header": "Authorization"}
    _, _ = new_source(app, "crm", "zoho", options={"token_header": "X-Zoho-Token", "event_id_field": "data.id"})


@pytest.mark.parametrize(("fields", "field"), [
    ({"name": "Shop"}, "name"), ({"name": "-shop"}, "name"), ({"name": "a" * 65}, "name"),
    ({"name": "shop/x"}, "name"), ({"name": None}, "name"), ({"provider": "paypal"}, "provider"),
    ({"secret": "short"}, "secret"), ({"secret": "has space inside"}, "secret"),
    ({"provider": "standard", "secret": "whsec_not-base64!!"}, "secret"),
    ({"provider": "standard", "secret": "whsec_c2hvcnQ="}, "secret"),
    ({"tolerance_seconds": 0}, "tolerance_seconds"), ({"tolerance_seconds": True}, "tolerance_seconds"),
    ({"forward": "yes"}, "forward"), ({"options": {"token_header": "X"}}, "options"),
    ({"provider": "zoho", "options": {"token_header": "bad header"}}, "options"),
    ({"provider": "zoho", "options": {"event_id_field": "a..b"}}, "options"),
    ({"provider": "zoho", "options": {"colour": "red"}}, "options"),
    ({"description": "a\x00b"}, "description"),
])
def test_bad_settings_are_refused_naming_the_field(app, fields, field):
    with app.app_context(), pytest.raises(InvalidInput) as refused:
        sources.create_source(**{"name": "shop", "provider": "shopify", **fields}, actor=ADMIN)
    assert refused.value.field == field and refused.value.message
    with app.app_context():
        assert db.session.query(InboundSource).count() == 0


def test_names_are_unique(app):
    new_source(app, "shop")
    with app.app_context(), pytest.raises(InvalidInput, match="exists already"):
        sources.create_source(name="shop", provider="github", actor=ADMIN)


def test_update_changes_and_audits_only_what_changed(app):
    source_id, _ = new_source(app)
    with app.app_context():
        source = sources.update_source(source_id, {"forward": True, "description": "Main shop",
                                                   "tolerance_seconds": 300}, ADMIN)
        assert (source.forward, source.description) == (True, "Main shop")
    (entry,) = _audit(app, "inbound_source.update")
    assert entry.before == {"description": None, "forward": False} and entry.after == {
        "description": "Main shop", "forward": True}


@pytest.mark.parametrize("changes", [{"name": "other"}, {"provider": "stripe"}, {"colour": 1},
                                     {"forward": True, "tolerance_seconds": -1}, {"state": "asleep"}])
def test_bad_updates_change_nothing(app, changes):
    source_id, _ = new_source(app)
    with app.app_context(), pytest.raises(InvalidInput):
        sources.update_source(source_id, changes, ADMIN)
    with app.app_context():
        assert db.session.get(InboundSource, source_id).forward is False
    assert not _audit(app, "inbound_source.update")


def test_rotation_keeps_the_old_secret_verifying_for_the_grace_period(app):
    source_id, first = new_source(app, "shop", "shopify")
    with app.app_context():
        second = sources.rotate_source_secret(source_id, grace_hours=1, actor=ADMIN)
        third = sources.rotate_source_secret(source_id, new_secret="shpss_pasted_from_shopify", grace_hours=0.5,
                                             actor=ADMIN)
        source = db.session.get(InboundSource, source_id)
        assert third == "shpss_pasted_from_shopify"
        assert live_secrets(source) == [third, first, second]  # current, then latest to expire
        later = utcnow() + timedelta(minutes=45)
        assert live_secrets(source, later) == [third, first]  # the half-hour grace is over
    entries = _audit(app, "inbound_source.rotate_secret")
    assert [e.after["secrets_verifying"] for e in entries] == [2, 3]
    assert not any(s in str(e.after) + e.summary for e in entries for s in (first, second, third))


@pytest.mark.parametrize("grace", [-1, 169, "1", float("nan")])
def test_rotation_grace_is_bounded(app, grace):
    source_id, _ = new_source(app)
    with app.app_context(), pytest.raises(InvalidInput):
        sources.rotate_source_secret(source_id, grace_hours=grace, actor=ADMIN)


def test_rotation_with_no_grace_stops_the_old_secret_at_once(app):
    source_id, first = new_source(app)
    with app.app_context():
        second = sources.rotate_source_secret(source_id, grace_seconds=0, actor=ADMIN)
        assert live_secrets(db.session.get(InboundSource, source_id)) == [second]


@pytest.fixture
def woken(monkeypatch):
    """Record wake_source calls (the processing module's, or a stand-in until it exists)."""
    calls = []
    try:
        from app.inbound import processing
    except ImportError:
        processing = types.ModuleType("app.inbound.processing")
        monkeypatch.setitem(sys.modules, "app.inbound.processing", processing)
    monkeypatch.setattr(processing, "wake_source", lambda session, source_id: calls.append(source_id),
                        raising=False)
    return calls


def test_pause_and_resume_wake_the_held_events(app, woken):
    source_id, _ = new_source(app)
    with app.app_context():
        sources.set_source_state(source_id, "paused", "maintenance", ADMIN)
        assert woken == []
        sources.set_source_state(source_id, SourceState.PAUSED, None, ADMIN)  # no change, no audit
        source = sources.set_source_state(source_id, "enabled", None, ADMIN)
        assert (source.state, source.state_changed_by) == (SourceState.ENABLED, ADMIN.name)
    assert woken == [source_id]
    assert [e.action for e in _audit(app, "inbound_source.pause") + _audit(app, "inbound_source.resume")] == [
        "inbound_source.pause", "inbound_source.resume"]
    assert _audit(app, "inbound_source.pause")[0].after == {"state": "paused", "state_reason": "maintenance"}


def test_update_may_pause(app, woken):
    source_id, _ = new_source(app)
    with app.app_context():
        assert sources.update_source(source_id, {"state": "disabled", "state_reason": "gone"}, ADMIN).state is (
            SourceState.DISABLED)


def test_delete_needs_force_while_events_wait_and_takes_its_events(app):
    source_id, _ = new_source(app)
    other_id, _ = new_source(app, "other")
    new_event(app, source_id, status=InboundStatus.RECEIVED, handles=["1005"])
    new_event(app, source_id, status=InboundStatus.PROCESSED)
    kept = new_event(app, other_id)
    with app.app_context():
        db.session.add(InboundCount(source_name="shop", hour_start=utcnow().replace(minute=0, second=0,
                                                                                  microsecond=0),
                                    kind="bad_signature", count=3))
        db.session.commit()
        with pytest.raises(IllegalTransition, match="1 events waiting"):
            sources.delete_source(source_id, ADMIN)
        assert sources.delete_source(source_id, ADMIN, force=True) == 2
    with app.app_context():
        assert db.session.get(InboundSource, source_id) is None
        assert [e.id for e in db.session.query(InboundEvent)] == [kept]
        assert db.session.query(InboundCount).count() == 0
        with pytest.raises(NotFound):
            sources.get_source(source_id)
    (entry,) = _audit(app, "inbound_source.delete")
    assert entry.before["events"] == 2 and entry.before["name"] == "shop"
