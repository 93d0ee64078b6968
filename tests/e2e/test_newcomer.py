"""The newcomer's path, no services at all: `flask --app app serve` delivers, and a restart loses nothing."""

import json
import signal
import sys
import time
from datetime import UTC, datetime

import requests

from tests.support.processes import child_env, flask, free_port
from tests.support.receiver import Reply
from tests.support.waiting import wait_until

#: The wait before the one retry; long enough to stop the server before it is due.
RETRY_SECONDS = 8


class Api:
    """A producer talking to the server over HTTP with an API key."""

    def __init__(self, port, key):
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.headers = {"Authorization": f"Bearer {key}"}

    def post(self, path, body, expect):
        response = requests.post(self.base + path, json=body, headers=self.headers, timeout=10)
        assert response.status_code == expect, response.text
        return response.json()

    def delivery(self, delivery_id):
        response = requests.get(f"{self.base}/deliveries/{delivery_id}", headers=self.headers, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for_delivery(self, delivery_id, timeout, **expected):
        def matches():
            delivery = self.delivery(delivery_id)
            return delivery if expected.items() <= delivery.items() else None

        return wait_until(matches, timeout, message=lambda: json.dumps(self.delivery(delivery_id), indent=1))


def test_newcomer_server_delivers_and_a_restart_loses_no_webhook(tmp_path, processes, receiver):
    # Given nothing but the code: no database, broker or keys configured, a throwaway instance folder
    instance = tmp_path / "instance"
    env = child_env(HOOKYARD_INSTANCE_PATH=instance, WEBHOOK_RETRY_SCHEDULE=RETRY_SECONDS, WEBHOOK_RETRY_JITTER=0)
    port = free_port()
    server = processes.start_server(env, port)
    api = Api(port, flask(env, "api-keys", "create", "newcomer").strip().splitlines()[-1])
    assert {p.name for p in instance.iterdir()} >= {"hookyard.db", "secret_key", "secrets_encryption_key"}

    # When a producer creates an endpoint and sends a message, the receiver gets it
    api.post("/endpoints", {"url": receiver.url()}, expect=201)
    first = api.post("/messages", {"event_type": "order.created", "payload": {"order": 1}}, expect=202)
    (request,) = receiver.wait_for(1, timeout=30)
    assert json.loads(request.body) == {"order": 1}
    api.wait_for_delivery(first["deliveries"][0]["id"], 30, status="succeeded")

    # Given a delivery waiting for its retry when the newcomer presses Ctrl-C
    receiver.reply(Reply(status=500))
    second = api.post("/messages", {"event_type": "order.created", "payload": {"order": 2}}, expect=202)
    delivery_id = second["deliveries"][0]["id"]
    waiting = api.wait_for_delivery(delivery_id, 30, status="pending", attempt_count=1)
    server.send(signal.SIGINT)
    server.wait(30)
    due = datetime.fromisoformat(waiting["next_attempt_at"])
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.5)
    assert len(receiver.requests) == 2, "the retry must not have been sent before the server stopped"

    # When the server starts again, the retry is sent at once and the delivery succeeds
    processes.start_server(env, port, name="server-restarted")
    receiver.wait_for(3, timeout=30)
    done = api.wait_for_delivery(delivery_id, 30, status="succeeded")
    assert [a["response_status"] for a in done["attempts"]] == [500, 200]


def test_the_readme_example_reaches_the_shipped_receiver_and_the_server_logs_each_attempt(tmp_path, processes):
    # Given `make run` (flask serve) and the receiver the README starts in another terminal
    env = child_env(HOOKYARD_INSTANCE_PATH=tmp_path / "instance")
    port, receiver_port = free_port(), free_port()
    server = processes.start_server(env, port)
    receiver = processes.start("receiver", [sys.executable, "-m", "flask", "--app", "app", "receiver", "--port",
                                            str(receiver_port)], env)
    receiver.wait_for_log(f"Receiving webhooks on http://127.0.0.1:{receiver_port}/")
    api = Api(port, flask(env, "api-keys", "create", "laptop").strip().splitlines()[-1])

    # When the README's two calls are made
    api.post("/endpoints", {"url": f"http://127.0.0.1:{receiver_port}/hook", "event_types": ["order.*"]}, expect=201)
    sent = api.post("/messages", {"event_type": "order.created", "payload": {"order": 1001}, "reference": "#1001",
                                  "tags": ["ABCD1234"]}, expect=202)
    delivery_id = sent["deliveries"][0]["id"]

    # Then the receiver prints the webhook, and the server's log has the attempt's line (INFO, not hidden)
    receiver.wait_for_log('{"order":1001}', timeout=30)
    assert "POST /hook" in receiver.log() and "webhook-signature=v1," in receiver.log()
    api.wait_for_delivery(delivery_id, 30, status="succeeded")
    server.wait_for_log(f"attempt {delivery_id} #1 to http://127.0.0.1:{receiver_port}/hook: 200", timeout=30)
