import re

from prometheus_client.parser import text_string_to_metric_families

from app.auth.api_keys import create_api_key
from app.extensions import db
from app.models import MetricSample
from tests.support.factories import send


def scrape(client, token):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for s in family.samples}


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_refuse_a_request_without_a_valid_token(client, app):
    app.config["METRICS_TOKEN"] = "scrape-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic eDp5"}).status_code == 401
    refused = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 403 and "hookyard_" not in refused.get_data(as_text=True)


def test_metrics_accept_metrics_token_or_a_key_that_may_read(client, app, api_key):
    app.config["METRICS_TOKEN"] = "scrape-token"
    with app.app_context():
        _, reader = create_api_key("prometheus", ["read"])
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-token"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"Bearer {api_key}"}).status_code == 200  # all scopes
    assert client.get("/metrics", headers={"Authorization": f"Bearer {reader}"}).status_code == 200


def test_metrics_refuse_a_key_without_the_read_scope(client, app):
    with app.app_context():
        _, writer = create_api_key("inbound only", ["inbound:write", "messages:write"])
    refused = client.get("/metrics", headers={"Authorization": f"Bearer {writer}"})
    assert refused.status_code == 403 and "read scope" in refused.get_json()["error"]
    assert "hookyard_" not in refused.get_data(as_text=True)


def test_a_scrape_lists_every_family_with_inbound_counters_at_zero(client, api_key):
    samples = scrape(client, api_key)
    names = {name for name, _ in samples}
    for name in ("hookyard_attempt_duration_seconds_count", "hookyard_oldest_pending_seconds",
                 "webhook_events_processed_total", "webhook_events_failed_total", "webhook_events_duplicate_total"):
        assert name in names, name
    assert value(samples, "hookyard_queue_depth", queue="webhooks") == 0
    assert value(samples, "hookyard_endpoints", state="enabled") == 0


def test_attempts_are_counted_and_deliveries_by_status_come_from_the_snapshot(app, client, api_key, make_endpoint,
                                                                             receiver, broker, worker):
    from app.ops.periodic import PeriodicJob, run_if_due
    from app.ops.schedule import take_snapshot

    before = scrape(client, api_key)
    make_endpoint()
    ids = [send(app)[1][0] for _ in range(3)]
    broker.join("webhooks")
    worker.join()
    with app.app_context():
        run_if_due(PeriodicJob("snapshot", take_snapshot))
    after = scrape(client, api_key)
    counted = value(after, "hookyard_attempts_total", outcome="succeeded", error_class="none") - value(
        before, "hookyard_attempts_total", outcome="succeeded", error_class="none")
    assert counted == len(ids)
    assert (value(after, "hookyard_attempt_duration_seconds_count")
            - value(before, "hookyard_attempt_duration_seconds_count")) == len(ids)
    assert value(after, "hookyard_deliveries", status="succeeded") == 3
    assert value(after, "hookyard_endpoints", state="enabled") == 1
    assert 0 <= value(after, "hookyard_snapshot_age_seconds") < 60


def test_counts_published_by_other_machines_are_added(app, client, api_key):
    with app.app_context():
        db.session.add(MetricSample(source="worker-host:boot-1", seq=7, samples={
            "hookyard_attempts_total|error_class=timeout,outcome=failed": 7.0,
            "webhook_events_duplicate_total|": 2.0}))
        db.session.commit()
    samples = scrape(client, api_key)
    assert value(samples, "hookyard_attempts_total", outcome="failed", error_class="timeout") >= 7
    assert value(samples, "webhook_events_duplicate_total") >= 2


def test_an_older_copy_never_overwrites_a_newer_one(app):
    from app.ops import metrics_store

    with app.app_context():
        source = metrics_store.publish_local()
        row = db.session.get(MetricSample, source)
        row.seq = 10 ** 9  # as if a newer copy had been stored meanwhile
        row.samples = {"marker|": 1.0}
        db.session.commit()
        metrics_store.publish_local()
        db.session.expire_all()
        assert db.session.get(MetricSample, source).samples == {"marker|": 1.0}


def test_metric_names_match_the_documented_contract(client, api_key):
    text = client.get("/metrics", headers={"Authorization": f"Bearer {api_key}"}).get_data(as_text=True)
    for family in ("hookyard_deliveries", "hookyard_attempts_total", "hookyard_attempt_duration_seconds",
                   "hookyard_queue_depth", "hookyard_oldest_pending_seconds", "hookyard_endpoints"):
        assert re.search(rf"^# TYPE {family} ", text, re.M), family


def test_a_count_is_published_within_a_moment_without_waiting_for_a_tick_or_a_scrape(app):
    from app import metrics
    from app.ops import metrics_store
    from tests.support.waiting import wait_until

    key = metrics_store.sample_key("hookyard_attempts_total", {"outcome": "failed", "error_class": "tls"})

    def published():
        with app.app_context():
            db.session.expire_all()
            return sum((row.samples or {}).get(key, 0) for row in db.session.scalars(db.select(MetricSample)))

    before = published()
    publisher = metrics_store.PromptPublisher(app, min_interval=0.05)
    publisher.start()
    try:
        metrics.observe_attempt(succeeded=False, error_class="tls", duration_ms=5)
        wait_until(lambda: published() == before + 1, 10, message=lambda: f"published {published()}")
    finally:
        publisher.stop()
        publisher.join(5)
    assert not publisher.is_alive()


def test_with_metrics_keeps_the_directory_and_its_boot_id_across_restarts(tmp_path):
    import subprocess

    from tests.support.processes import ROOT

    env = {"PATH": "/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    show = ["sh", "-c", 'cat "$PROMETHEUS_MULTIPROC_DIR/boot"; ls "$PROMETHEUS_MULTIPROC_DIR"']
    first = subprocess.run(["bin/with-metrics", "worker", *show], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=True).stdout
    (tmp_path / "worker" / "counter_4242.db").write_bytes(b"counts of a process killed with -9")
    second = subprocess.run(["bin/with-metrics", "worker", *show], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True).stdout
    assert first.splitlines()[0] == second.splitlines()[0]  # the same boot id: the same row in the database
    assert "counter_4242.db" in second.split()
    assert (tmp_path / "worker" / "counter_4242.db").read_bytes() == b"counts of a process killed with -9"
