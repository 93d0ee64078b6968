"""Inbound end to end with real processes: the web server receives a signed Shopify webhook, a worker processes it
and forwards it, and the internal receiver gets it exactly once, whatever repeats or replays it. Once with the
Procfile's Dramatiq worker on Redis and PostgreSQL, once with the embedded default (SQLite, in-process worker)."""

import json

import requests

from tests.inbound import signing
from tests.support.processes import child_env, flask, free_port
from tests.support.waiting import wait_until

SECRET = "shpss_e2e0123456789abcdef0123456789"
ORDER = {"id": 450789469, "order_number": 1001, "line_items": [{"sku": "QR-77", "quantity": 2}]}
BODY = signing.body_of(ORDER)


class Api:
    def __init__(self, port, key):
        self.base, self.headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}

    def call(self, method, path, body=None, expect=200):
        response = requests.request(method, f"{self.base}/api/v1{path}", json=body, headers=self.headers, timeout=30)
        assert response.status_code == expect, response.text
        return response.json()

    def receive(self, source, headers):
        response = requests.post(f"{self.base}/inbound/{source}", data=BODY, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


def forward_exactly_once(api, receiver, describe):
    """Create a forwarding source and an endpoint; send a webhook, a duplicate and a replay; check one delivery."""
    api.call("POST", "/endpoints", {"url": receiver.url(), "event_types": ["inbound.shop.*"]}, expect=201)
    api.call("POST", "/inbound-sources", {"name": "shop", "provider": "shopify", "secret": SECRET, "forward": True},
             expect=201)
    headers = signing.shopify(SECRET, BODY, webhook_id="wh-e2e-1", topic="orders/fulfilled")

    event_id = api.receive("shop", headers)["id"]
    (request,) = receiver.wait_for(1, timeout=30)
    assert json.loads(request.body) == ORDER

    def event(**expected):
        found = api.call("GET", f"/inbound-events/{event_id}")
        return found if expected.items() <= found.items() else None

    first = wait_until(lambda: event(status="processed", attempt_count=1), 30, message=describe)
    assert first["forwarded_message_id"]
    message = api.call("GET", f"/messages/{first['forwarded_message_id']}")
    assert message["event_type"] == "inbound.shop.orders.fulfilled"

    assert api.receive("shop", headers) == {"status": "duplicate", "id": event_id}
    api.call("POST", f"/inbound-events/{event_id}/replay", {}, expect=202)
    replayed = wait_until(lambda: event(status="processed", attempt_count=2), 30, message=describe)
    assert [(a["trigger"], a["outcome"]) for a in replayed["attempts"]] == [
        ("received", "processed"), ("replay", "processed")]
    assert replayed["forwarded_message_id"] == first["forwarded_message_id"] and replayed["duplicate_count"] == 1
    assert [d["message_id"] for d in api.call("GET", "/deliveries")["data"]] == [first["forwarded_message_id"]]
    assert len(receiver.requests) == 1


def test_the_procfile_worker_processes_and_forwards_inbound_events_once(worker_env, processes, receiver, database):
    port = free_port()
    processes.start_server(worker_env, port)
    processes.start_worker(worker_env)
    api = Api(port, flask(worker_env, "api-keys", "create", "e2e").strip().splitlines()[-1])
    forward_exactly_once(api, receiver, processes.describe)
    rows = database._query("SELECT count(*) FROM deliveries")
    assert rows == [(1,)]


def test_the_embedded_default_processes_and_forwards_inbound_events_once(tmp_path, processes, receiver):
    env = child_env(HOOKYARD_INSTANCE_PATH=tmp_path / "instance")
    port = free_port()
    processes.start_server(env, port)
    api = Api(port, flask(env, "api-keys", "create", "e2e").strip().splitlines()[-1])
    forward_exactly_once(api, receiver, processes.describe)
