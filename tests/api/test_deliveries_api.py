import re

from app.delivery.attempt.pipeline import attempt_delivery
from tests.support.factories import send
from tests.support.receiver import Reply


def test_delivery_detail_lists_its_attempts(app, client, auth, make_endpoint, receiver):
    make_endpoint()
    receiver.reply(Reply(500, b"nope"))
    _, (delivery_id,) = send(app)
    with app.app_context():
        attempt_delivery(delivery_id)
    body = client.get(f"/api/v1/deliveries/{delivery_id}", headers=auth).json
    assert body["status"] == "pending" and body["attempt_count"] == 1
    (first,) = body["attempts"]
    assert first["number"] == 1 and first["trigger"] == "scheduled" and first["response_status"] == 500
    assert first["error_class"] == "http" and first["will_retry"] is True
    assert first["next_attempt_at"] and first["started_at"] and first["duration_ms"] >= 0


def test_list_filters_by_status_endpoint_and_search(app, client, auth, make_endpoint, receiver):
    one, two = make_endpoint(event_types=["order.*"]), make_endpoint(event_types=["invoice.*"])
    receiver.reply(Reply(400))
    _, (failed,) = send(app, reference="#1", tags=["QR-A"])
    _, (pending,) = send(app, reference="#2")
    _, (other,) = send(app, "invoice.paid", reference="#3", idempotency_key="idem-3")
    with app.app_context():
        attempt_delivery(failed)

    def ids(**params):
        response = client.get("/api/v1/deliveries", headers=auth, query_string=params)
        assert response.status_code == 200
        return [d["id"] for d in response.json["data"]]

    assert ids() == [other, pending, failed]  # newest first
    assert ids(status="failed") == [failed]
    assert ids(endpoint_id=two.id) == [other]
    assert ids(endpoint_id=one.id, status="pending") == [pending]
    assert ids(q="#2") == [pending]
    assert ids(q="QR-A") == [failed]
    assert ids(q="idem-3") == [other]
    assert ids(q=failed) == [failed]
    page = client.get("/api/v1/deliveries", headers=auth, query_string={"per_page": 2}).json
    assert len(page["data"]) == 2 and page["has_more"] is True
    assert client.get("/api/v1/deliveries", headers=auth, query_string={"page": 2, "per_page": 2}).json[
        "has_more"] is False


def test_bad_list_parameters_are_422(client, auth):
    for params in ({"status": "lost"}, {"page": "x"}, {"page": 0}, {"per_page": 500}):
        assert client.get("/api/v1/deliveries", headers=auth, query_string=params).status_code == 422


def test_retry_and_cancel_through_the_api(app, client, auth, make_endpoint, receiver):
    make_endpoint()
    receiver.reply(Reply(404))
    _, (failed,) = send(app)
    _, (pending,) = send(app)
    with app.app_context():
        attempt_delivery(failed)

    retried = client.post(f"/api/v1/deliveries/{failed}/retry", headers=auth)
    assert retried.status_code == 202 and retried.json["status"] == "pending"
    with app.app_context():
        attempt_delivery(failed)
    detail = client.get(f"/api/v1/deliveries/{failed}", headers=auth).json
    assert detail["status"] == "succeeded"
    assert detail["attempts"][1]["trigger"] == "manual" and detail["attempts"][1]["triggered_by"] == "api:tests"

    assert client.post(f"/api/v1/deliveries/{pending}/cancel", headers=auth).json["status"] == "cancelled"
    conflict = client.post(f"/api/v1/deliveries/{pending}/cancel", headers=auth)
    assert conflict.status_code == 409 and "only pending deliveries" in conflict.json["error"]
    assert client.post(f"/api/v1/deliveries/{failed}/retry", headers=auth).status_code == 409
    assert client.post("/api/v1/deliveries/dlv_nope/retry", headers=auth).status_code == 404
    assert client.post("/api/v1/deliveries/dlv_nope/cancel", headers=auth).status_code == 404
    bad = client.post(f"/api/v1/deliveries/{pending}/retry", headers=auth, json={"restart_schedule": "yes"})
    assert bad.status_code == 422


def test_stats_report_counts_queue_depth_and_overdue_age(app, client, auth, make_endpoint, receiver):
    make_endpoint()
    receiver.reply(Reply(400))
    _, (failed,) = send(app)
    send(app)
    with app.app_context():
        attempt_delivery(failed)
    body = client.get("/api/v1/stats", headers=auth).json
    assert body["deliveries"] == {"pending": 1, "sending": 0, "succeeded": 0, "failed": 1, "cancelled": 0}
    assert body["queue_depth"] == 2  # both were enqueued; no worker has run
    assert body["oldest_overdue_pending_seconds"] >= 0


def test_openapi_describes_every_route(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    served = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{name}" if m.group(1) == "name" else "{id}",
                          rule.rule.removeprefix("/api/v1"))  # an event type goes by its name
            served.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert {path: set(ops) for path, ops in spec["paths"].items()} == served
    assert set(spec["paths"]["/endpoints/{id}"]) == {"get", "patch", "delete"}
    assert {"EndpointIn", "MessageIn", "DeliveryDetailOut", "ErrorOut"} <= set(spec["components"]["schemas"])
    assert spec["paths"]["/messages"]["post"]["responses"]["413"]["description"] == "Body over the size limit"
