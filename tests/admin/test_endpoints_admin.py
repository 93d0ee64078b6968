import logging
import re

import pytest

from app.credentials.crypto import decrypt_headers
from app.delivery.attempt.pipeline import attempt_delivery
from app.extensions import db
from app.models import AuditEntry, Delivery, DeliveryStatus, Endpoint, EndpointState, utcnow
from tests.support.factories import send, update
from tests.support.receiver import Reply


def form(receiver, **fields):
    return {"url": receiver.url(), "name": "OnlyPerf", "event_types": "order.*, product.sold", "signing": "standard",
            "headers": "X-Shop: 7\nAuthorization: Bearer s3cr3t", "timeout_seconds": "5", "max_attempts": "6",
            "retry_schedule": "5, 60", "rate_limit_per_second": "", **fields}


def created_secret(html):
    return re.search(r'<pre class="payload" id="new-secret">(whsec_[^<]+)</pre>', html).group(1)


def test_admin_creates_an_endpoint_and_sees_the_secret_once(app, client, staff, receiver):
    token = staff("admin")
    response = client.post("/admin/endpoints/new", data={**form(receiver), "csrf_token": token})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    secret = created_secret(response.get_data(as_text=True))
    with app.app_context():
        endpoint = db.session.query(Endpoint).one()
        assert (endpoint.name, endpoint.event_types, endpoint.timeout_seconds, endpoint.retry_schedule) == (
            "OnlyPerf", ["order.*", "product.sold"], 5, [5, 60])
        assert decrypt_headers(endpoint.headers_encrypted) == {"X-Shop": "7", "Authorization": "Bearer s3cr3t"}
        assert "s3cr3t" not in str(endpoint.headers_encrypted)  # encrypted at rest, like the secret
    manage = client.get(f"/admin/endpoints/{endpoint.id}").get_data(as_text=True)
    assert secret not in manage and "s3cr3t" not in manage and secret[-4:] in manage  # masked: whsec_••••abcd
    assert "X-Shop: ••••••••" in manage  # every custom value is a credential, whatever its name


def test_bad_form_input_shows_the_error_and_creates_nothing(app, client, staff, receiver):
    token = staff("admin")
    html = client.post("/admin/endpoints/new", data={**form(receiver, headers="Host: evil"), "csrf_token": token}
                       ).get_data(as_text=True)
    assert "Host is set by Hookyard and cannot be overridden" in html
    html = client.post("/admin/endpoints/new", data={**form(receiver, url="http://10.0.0.1/x"), "csrf_token": token}
                       ).get_data(as_text=True)
    assert "WEBHOOK_ALLOWED_NETWORKS" in html
    with app.app_context():
        assert db.session.query(Endpoint).count() == 0


def test_editing_keeps_a_masked_credential_unless_it_is_retyped(app, client, staff, receiver, make_endpoint):
    endpoint = make_endpoint(headers={"Authorization": "Bearer s3cr3t", "X-Auth": "hunter22"})
    token = staff("admin")
    page = client.get(f"/admin/endpoints/{endpoint.id}/edit").get_data(as_text=True)
    assert "Authorization: ••••••••" in page and "X-Auth: ••••••••" in page
    assert "s3cr3t" not in page and "hunter22" not in page
    client.post(f"/admin/endpoints/{endpoint.id}/edit", data={
        **form(receiver, headers="Authorization: ••••••••\nX-Auth: replaced\nX-New: 1"), "csrf_token": token})
    with app.app_context():
        stored = db.session.get(Endpoint, endpoint.id).headers_encrypted
        assert decrypt_headers(stored) == {"Authorization": "Bearer s3cr3t", "X-Auth": "replaced", "X-New": "1"}


@pytest.mark.parametrize("name", ["X-Auth", "Authentication", "X-Passphrase", "X-Shop"])
def test_no_custom_header_value_is_shown_to_a_viewer(app, client, staff, make_endpoint, name):
    endpoint = make_endpoint(headers={name: "credential-value-1"})
    staff("viewer")
    assert "credential-value-1" not in client.get(f"/admin/endpoints/{endpoint.id}").get_data(as_text=True)
    assert "credential-value-1" not in client.get("/admin/endpoints/").get_data(as_text=True)


def test_rotation_needs_the_typed_confirmation(app, client, staff, make_endpoint):
    endpoint = make_endpoint()
    token = staff("admin")
    refused = client.post(f"/admin/endpoints/{endpoint.id}/rotate", data={"csrf_token": token, "grace_hours": "24"},
                          follow_redirects=True).get_data(as_text=True)
    assert "Type ROTATE to confirm" in refused
    response = client.post(f"/admin/endpoints/{endpoint.id}/rotate", data={"csrf_token": token, "grace_hours": "2",
                                                                          "confirm": "ROTATE"})
    new_secret = created_secret(response.get_data(as_text=True))
    assert new_secret != endpoint.secret and "keeps signing beside it for 2 h" in response.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.get(Endpoint, endpoint.id).retired_secrets) == 1


def test_test_send_shows_its_outcome(app, client, staff, make_endpoint, receiver):
    endpoint = make_endpoint()
    token = staff("operator")
    response = client.post(f"/admin/endpoints/{endpoint.id}/test", data={"csrf_token": token})
    delivery_id = re.search(r"test=(dlv_\w+)", response.headers["Location"]).group(1)
    assert client.get(f"/admin/endpoints/tests/{delivery_id}.json").json == {"status": "pending", "attempt": None}
    with app.app_context():
        attempt_delivery(delivery_id)
    outcome = client.get(f"/admin/endpoints/tests/{delivery_id}.json").json
    assert outcome["status"] == "succeeded" and outcome["attempt"]["response_status"] == 200
    assert 'id="test-outcome"' in client.get(response.headers["Location"]).get_data(as_text=True)


def test_recover_previews_the_count_then_starts_a_job(app, client, staff, make_endpoint):
    endpoint = make_endpoint()
    _, (delivery_id,) = send(app)
    update(app, Delivery, delivery_id, status=DeliveryStatus.FAILED)
    token = staff("operator")
    since = utcnow().replace(hour=0, minute=0).strftime("%Y-%m-%dT%H:%M")
    preview = client.get(f"/admin/endpoints/{endpoint.id}/recover", query_string={"since": since})
    assert re.search(r"data-count>1<", preview.get_data(as_text=True))
    started = client.post(f"/admin/endpoints/{endpoint.id}/recover", data={"csrf_token": token, "since": since})
    assert re.match(r"/admin/jobs/job_\w+$", started.headers["Location"])
    assert client.get(f"/admin/endpoints/{endpoint.id}/recover", query_string={"since": "soon"}).status_code == 400


@pytest.mark.parametrize(("role", "path", "data", "allowed"), [
    ("viewer", "/admin/endpoints/{id}/test", {}, False),
    ("operator", "/admin/endpoints/{id}/test", {}, True),
    ("operator", "/admin/endpoints/{id}/state", {"state": "paused"}, False),
    ("operator", "/admin/endpoints/{id}/rotate", {"confirm": "ROTATE"}, False),
    ("operator", "/admin/endpoints/{id}/delete", {"force": "1"}, False),
    ("operator", "/admin/endpoints/new", {"url": "http://127.0.0.1:1/x"}, False),
    ("viewer", "/admin/endpoints/{id}/recover", {"since": "2026-01-01T00:00"}, False),
    ("admin", "/admin/endpoints/{id}/state", {"state": "paused"}, True),
])
def test_endpoint_actions_by_role(app, client, staff, make_endpoint, role, path, data, allowed):
    endpoint = make_endpoint()
    token = staff(role)
    response = client.post(path.format(id=endpoint.id), data={**data, "csrf_token": token})
    assert (response.status_code != 403) is allowed
    if not allowed:
        with app.app_context():
            row = db.session.get(Endpoint, endpoint.id)
            assert row.state is EndpointState.ENABLED and row.retired_secrets == [] and row.deleted_at is None
            assert db.session.query(Delivery).count() == 0 and db.session.query(Endpoint).count() == 1


def test_failing_and_disabled_endpoints_show_banners(app, client, staff, make_endpoint, receiver):
    failing = make_endpoint(name="Failing one")
    disabled = make_endpoint(name="Gone one")
    update(app, Endpoint, failing.id, consecutive_failures=6, failing_since=utcnow())
    update(app, Endpoint, disabled.id, state=EndpointState.DISABLED, state_reason="the endpoint answered 410 Gone")
    send(app)  # the disabled endpoint takes no new delivery; the failing one does
    token = staff("viewer")
    html = client.get("/admin/").get_data(as_text=True)
    assert html.count('data-banner="summary"') == 1  # one compact line, not a banner per endpoint
    assert "1 endpoint failing, 1 disabled; 1 delivery waiting" in html
    text = re.sub(r"<[^>]+>|\s+", " ", html)
    assert re.search(r"Failing one\s+is failing: 6 attempts in a row", text)
    assert re.search(r"Gone one\s+is disabled \(the endpoint answered 410 Gone\)", text)

    # Dismissed, it stays away for an hour for this person only.
    client.post("/admin/preferences/hide-summary", data={"csrf_token": token, "url": "/admin/endpoints/"})
    assert 'data-banner="summary"' not in client.get("/admin/").get_data(as_text=True)


def test_health_figures_on_the_endpoint_list(app, client, staff, make_endpoint, receiver):
    make_endpoint(name="Measured")
    receiver.reply(Reply(500), Reply(200), Reply(200), Reply(200))
    ids = [send(app)[1][0] for _ in range(4)]
    with app.app_context():
        for delivery_id in ids:
            attempt_delivery(delivery_id)
    staff("viewer")
    html = client.get("/admin/endpoints/").get_data(as_text=True)
    assert re.search(r"data-success-rate>75.0 % <small class=\"text-muted\">of 4", html)
    assert re.search(r"data-p95>\d+ ms", html)


def test_a_secret_never_appears_in_any_page_or_log(app, client, staff, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    token = staff("admin")
    secret = created_secret(client.post("/admin/endpoints/new", data={
        **form(receiver, signing="shared-secret"), "csrf_token": token}).get_data(as_text=True))
    with app.app_context():
        endpoint = db.session.query(Endpoint).one()
    rotated = created_secret(client.post(f"/admin/endpoints/{endpoint.id}/rotate", data={
        "csrf_token": token, "confirm": "ROTATE", "grace_hours": "1"}).get_data(as_text=True))
    _, (delivery_id,) = send(app, event_type="product.sold")
    with app.app_context():
        attempt_delivery(delivery_id)
    assert receiver.requests[0].headers["X-Webhook-Secret"] == rotated  # it was really sent
    with app.app_context():
        audit_ids = [e.id for e in db.session.query(AuditEntry)]
    pages = ["/admin/", f"/admin/log/{delivery_id}", "/admin/endpoints/", f"/admin/endpoints/{endpoint.id}",
             f"/admin/endpoints/{endpoint.id}/edit", "/admin/audit/", "/admin/messages/",
             *[f"/admin/audit/details/?id={i}" for i in audit_ids]]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        for value in (secret, rotated, "s3cr3t"):
            assert value not in html, f"{value[:10]}... shown on {path}"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for value in (secret, rotated, "s3cr3t"):
        assert value not in logged


def test_admin_sets_a_template_and_previews_it_on_the_endpoint_page(app, client, staff, receiver):
    token = staff("admin")
    template = '{"order_ref": {{ data.order | tojson }}}'
    refused = client.post("/admin/endpoints/new", data={
        **form(receiver, payload_format="template", payload_template="{{ ''.__class__ }}"), "csrf_token": token})
    assert "payload_template: line 1: templates may not read &#39;__class__&#39;" in refused.get_data(as_text=True)
    client.post("/admin/endpoints/new", data={**form(receiver, payload_format="template",
                                                      payload_template=template), "csrf_token": token})
    with app.app_context():
        endpoint = db.session.query(Endpoint).one()
        assert (endpoint.payload_format.value, endpoint.payload_template) == ("template", template)
    shown = client.post(f"/admin/endpoints/{endpoint.id}/preview", data={
        "event_type": "order.created", "payload": '{"order": {"id": 7}}', "reference": "", "tags": "",
        "csrf_token": token})
    assert shown.status_code == 200
    assert '<pre class="payload mw-48rem" id="preview-body">{&#34;order_ref&#34;: {&#34;id&#34;: 7}}</pre>' in \
        shown.get_data(as_text=True)
    failed = client.post(f"/admin/endpoints/{endpoint.id}/preview", data={
        "event_type": "order.created", "payload": '{"refund": 1}', "csrf_token": token})
    assert failed.status_code == 422
    assert "&#39;dict object&#39; has no attribute &#39;order&#39;" in failed.get_data(as_text=True)
