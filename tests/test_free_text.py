"""Free text (notes, names, descriptions, reasons) holding what no database stores or no page shows is refused
the same way everywhere, as message fields are: the API answers 422 naming the field, a staff form says why,
the CLI exits with the reason, and nothing changes.

On PostgreSQL a NUL in a note used to be a 500, and on either database so was a lone surrogate.
"""

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiKey, AuditEntry, Delivery, DeliveryStatus, Endpoint, InboundSource, InboundStatus
from tests.inbound.sources_helpers import load_event, new_event, new_source
from tests.support.factories import load, send, update
from tests.support.staff import csrf_from

#: Text no database stores (NUL on PostgreSQL, lone surrogates anywhere) or no page shows (C1 controls).
UNSTORABLE = {"nul": "a\x00b", "lone-surrogate": "a\ud800b", "lone-low-surrogate": "\udfff", "c1-control": "a\x85b"}
#: What a form can carry: a browser sends UTF-8, so lone surrogates never arrive in one.
FORM_UNSTORABLE = {"nul": "a\x00b", "c1-control": "a\x85b", "unit-separator": "a\x1fb"}


def audited(app, *actions):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action.in_(actions)))


def post_json(client, auth, url, body, method="POST"):
    """Send body as a JSON client does: a lone surrogate travels escaped (\\ud800)."""
    return client.open(url, method=method, data=json.dumps(body),
                       headers={**auth, "Content-Type": "application/json"})


@pytest.fixture
def settleable(app, make_endpoint):
    """A failed delivery and a failed inbound event; returns their ids."""
    make_endpoint()
    _, (delivery_id,) = send(app)
    update(app, Delivery, delivery_id, status=DeliveryStatus.FAILED)
    return delivery_id, new_event(app, new_source(app)[0])


@pytest.mark.parametrize("value", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_an_unstorable_note_is_refused_by_the_api_and_settles_nothing(app, client, auth, settleable, value):
    delivery_id, event_id = settleable
    for url in (f"/api/v1/deliveries/{delivery_id}/resolve", f"/api/v1/inbound-events/{event_id}/mark-processed"):
        response = post_json(client, auth, url, {"note": value})
        assert response.status_code == 422, (url, response.get_data(as_text=True))
        assert response.get_json()["field"] == "note" and "note: must" in response.get_json()["error"]
    assert load(app, delivery_id).resolved_at is None
    assert load_event(app, event_id).status is InboundStatus.FAILED
    assert audited(app, "delivery.resolve", "inbound_event.mark_processed") == 0


@pytest.mark.parametrize("value", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_unstorable_names_descriptions_and_reasons_are_refused_by_the_api(app, client, auth, make_endpoint,
                                                                         receiver, value):
    endpoint = make_endpoint(name="Shop")
    source_id, _ = new_source(app, "shop")
    attempts = [
        ("POST", "/api/v1/endpoints", {"url": receiver.url(), "name": value}, "name"),
        ("POST", "/api/v1/endpoints", {"url": receiver.url(), "description": value}, "description"),
        ("PATCH", f"/api/v1/endpoints/{endpoint.id}", {"name": value}, "name"),
        ("PATCH", f"/api/v1/endpoints/{endpoint.id}", {"state": "paused", "state_reason": value}, "state_reason"),
        ("POST", "/api/v1/inbound-sources", {"name": "orders", "provider": "shopify", "description": value},
         "description"),
        ("PATCH", f"/api/v1/inbound-sources/{source_id}", {"description": value}, "description"),
        ("PATCH", f"/api/v1/inbound-sources/{source_id}", {"state": "paused", "state_reason": value}, "state_reason"),
    ]
    for method, url, body, field in attempts:
        response = post_json(client, auth, url, body, method)
        assert (response.status_code, response.get_json().get("field")) == (422, field), (method, url, body)
    with app.app_context():
        assert [(e.name, e.state.value) for e in db.session.scalars(select(Endpoint))] == [("Shop", "enabled")]
        assert [(s.name, s.description, s.state.value) for s in db.session.scalars(select(InboundSource))] == [
            ("shop", None, "enabled")]


@pytest.mark.parametrize("value", FORM_UNSTORABLE.values(), ids=FORM_UNSTORABLE.keys())
def test_staff_forms_refuse_an_unstorable_note_and_change_nothing(app, client, staff, settleable, value):
    delivery_id, event_id = settleable
    token = staff("operator")
    for url, page in ((f"/admin/resolve/{delivery_id}", f"/admin/log/{delivery_id}"),
                      (f"/admin/inbound/mark-processed/{event_id}", "/admin/inbound/")):
        response = client.post(url, data={"csrf_token": token, "note": value})
        if response.status_code == 400:  # the request guard's answer to C0 controls, before any work
            assert "control character; nothing was done" in response.get_data(as_text=True)
        else:
            assert "without control characters; nothing was changed" in client.get(page).get_data(as_text=True)
    assert load(app, delivery_id).resolved_at is None
    assert load_event(app, event_id).status is InboundStatus.FAILED
    assert audited(app, "delivery.resolve", "inbound_event.mark_processed") == 0


def test_the_staff_endpoint_form_refuses_an_unstorable_name(app, client, staff, make_endpoint, receiver):
    endpoint = make_endpoint(name="Shop")
    token = staff("admin")
    page = client.get(f"/admin/endpoints/{endpoint.id}/edit").get_data(as_text=True)
    form = {"url": receiver.url(), "name": "Shop\x85", "event_types": "", "signing": "standard", "headers": "",
            "timeout_seconds": "5", "max_attempts": "6", "retry_schedule": "", "rate_limit_per_second": "",
            "csrf_token": csrf_from(page) or token}
    html = client.post(f"/admin/endpoints/{endpoint.id}/edit", data=form).get_data(as_text=True)
    assert "name must be text of at most 200 characters without control characters" in html
    with app.app_context():
        assert db.session.get(Endpoint, endpoint.id).name == "Shop"


@pytest.mark.parametrize("name", ["shop\udcff", "shop\x00", "shop\x85"])
def test_an_api_key_name_that_cannot_be_stored_is_refused(app, runner, name):
    # A byte that is not UTF-8 on the command line reaches Python as a lone surrogate (\udcff).
    result = runner.invoke(args=["api-keys", "create", name])
    assert result.exit_code != 0 and "name must be text" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0
