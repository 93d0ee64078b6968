from dramatiq.common import q_name
from prometheus_client.parser import text_string_to_metric_families

from app import queues


def test_every_queue_an_actor_consumes_is_listed_once(broker):
    from tasks import alerts, bulk, deliveries, inbound  # noqa: F401  the modules tasks.worker loads

    declared = {q_name(name) for name in broker.get_declared_queues()}
    assert declared == set(queues.ALL) and len(queues.ALL) == len(set(queues.ALL))


def queue_depth_gauge(client, auth):
    text = client.get("/metrics", headers=auth).get_data(as_text=True)
    return {s.labels["queue"]: s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == "hookyard_queue_depth"}


def test_the_inbound_queue_shows_on_the_system_page_api_and_queue_depth_metric(app, client, auth, broker, staff):
    from tasks.inbound import process_inbound_event

    process_inbound_event.send(1)  # no worker runs: both wait in the broker
    process_inbound_event.send_with_options(args=(2,), delay=600_000)

    listed = {q["name"]: q for q in client.get("/api/v1/system", headers=auth).get_json()["queues"]}
    assert list(listed) == ["webhooks", "inbound", "jobs", "alerts"]
    assert listed["inbound"]["depth"] == 2 and listed["inbound"]["delayed"] == 1
    assert listed["webhooks"]["depth"] == 0
    assert queue_depth_gauge(client, auth) == {"webhooks": 0, "inbound": 2, "jobs": 0, "alerts": 0}
    staff("viewer")
    page = client.get("/admin/system/").get_data(as_text=True)
    assert '<tr data-queue="inbound"><td>inbound</td><td>2</td>' in page
