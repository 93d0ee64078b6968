"""Rejection samples and stored headers never keep or show a source's credential: a Zoho token in a header of
its own name is masked on every refusal path and again on display; a request to no known source keeps only
harmless headers."""

import pytest

from app.extensions import db
from app.inbound import rejections
from app.models import InboundEvent
from app.models.inbound import Provider, SourceState
from tests.inbound.conftest import ZOHO_TOKEN

ZOHO_OPTIONS = {"token_header": "X-Zoho-Auth"}


@pytest.mark.parametrize("path", ["disabled", "too_large"])
def test_a_zoho_token_in_its_own_header_is_masked_in_every_rejection_sample(app, client, make_source, stored, path):
    make_source("crm", Provider.ZOHO, options=ZOHO_OPTIONS,
                state=SourceState.DISABLED if path == "disabled" else SourceState.ENABLED)
    app.config["INBOUND_MAX_BODY_BYTES"] = 1000
    body = b'{"id": 1}' if path == "disabled" else b"{" + b" " * 1000 + b"}"

    answer = client.post("/inbound/crm", data=body, headers={"X-Zoho-Auth": ZOHO_TOKEN})

    assert answer.status_code == (404 if path == "disabled" else 413)
    (rejection,) = stored.rejections()
    assert (rejection.source_name, rejection.reason) == ("crm", path)
    assert rejection.headers["X-Zoho-Auth"] == "••••"
    assert ZOHO_TOKEN not in str(rejection.headers)


def test_a_request_to_no_known_source_keeps_only_harmless_headers(client, stored):
    answer = client.post("/inbound/nowhere", data=b'{"id": 1}', headers={
        "X-Zoho-Auth": ZOHO_TOKEN, "X-Custom": "anything", "Content-Type": "application/json",
        "User-Agent": "Shopify-Captain-Hook", "X-Shopify-Topic": "orders/create"})

    assert answer.status_code == 404
    (rejection,) = stored.rejections()
    assert rejection.source_name == rejections.UNKNOWN_SOURCE
    assert rejection.headers == {"Content-Type": "application/json", "User-Agent": "Shopify-Captain-Hook",
                                 "X-Shopify-Topic": "orders/create", "Content-Length": "9"}


def test_a_token_stored_in_clear_is_masked_on_the_source_page(app, client, make_source, staff):
    source = make_source("crm", Provider.ZOHO, options=ZOHO_OPTIONS)
    with app.test_request_context():  # as samples were stored before their source's header names were masked
        rejections.record_rejection("crm", "disabled", "/inbound/crm", {"X-Zoho-Auth": ZOHO_TOKEN}, b"", 0, None)
    staff("viewer")

    html = client.get(f"/admin/inbound-sources/{source.id}").get_data(as_text=True)

    assert 'data-rejection="disabled"' in html and "X-Zoho-Auth" in html
    assert ZOHO_TOKEN not in html


def test_a_token_stored_in_clear_on_an_event_is_masked_on_its_page_and_in_the_api(app, client, make_source, staff,
                                                                                  auth):
    source = make_source("crm", Provider.ZOHO, options=ZOHO_OPTIONS)
    with app.app_context():
        event = InboundEvent(source_id=source.id, provider_event_id="e-1", body=b"{}", body_bytes=2,
                             headers={"X-Zoho-Auth": ZOHO_TOKEN})
        db.session.add(event)
        db.session.commit()
        event_id = event.id

    detail = client.get(f"/api/v1/inbound-events/{event_id}", headers=auth)
    assert detail.status_code == 200 and detail.json["headers"] == {"X-Zoho-Auth": "••••"}
    staff("viewer")
    html = client.get(f"/admin/inbound/event/{event_id}").get_data(as_text=True)
    assert "X-Zoho-Auth" in html and ZOHO_TOKEN not in html
