from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Setting, WorkerHeartbeat, utcnow
from tests.support.staff import csrf_from


def heartbeat(app, pid, version, seen_ago=0):
    with app.app_context():
        now = utcnow()
        db.session.add(WorkerHeartbeat(id=f"worker-1:{pid}:1", host="worker-1", pid=pid, version=version, threads=8,
                                       queues=["alerts", "jobs", "webhooks"], started_at=now - timedelta(hours=1),
                                       last_seen_at=now - timedelta(seconds=seen_ago)))
        db.session.commit()


def test_the_system_page_warns_when_no_worker_is_alive(app, client, staff):
    staff("viewer")
    heartbeat(app, 11, "abc", seen_ago=600)  # long gone
    page = client.get("/admin/system/").get_data(as_text=True)
    assert 'data-warning="no-worker"' in page and 'id="workers-alive">0<' in page


def test_the_system_page_lists_workers_and_warns_on_version_drift(app, client, staff):
    app.config["SOURCE_VERSION"] = "web-v2"
    heartbeat(app, 11, "web-v2")
    heartbeat(app, 12, "old-v1")
    staff("viewer")
    page = client.get("/admin/system/").get_data(as_text=True)
    assert 'data-warning="version-drift"' in page and "workers run old-v1" in page
    assert page.count("<td>worker-1</td>") == 2 and 'data-queue="webhooks"' in page
    assert 'data-run="retention"' in page and 'data-warning="no-worker"' not in page


def test_api_system_reports_workers_queues_runs_and_versions(app, client, auth):
    app.config["SOURCE_VERSION"] = "v7"
    heartbeat(app, 11, "v7")
    assert client.get("/api/v1/system").status_code == 401
    body = client.get("/api/v1/system", headers=auth).get_json()
    assert body["version"] == {"web": "v7", "workers": ["v7"]} and body["warnings"] == []
    (worker,) = body["workers"]
    assert worker["pid"] == 11 and worker["threads"] == 8 and worker["queues"] == ["alerts", "jobs", "webhooks"]
    assert {q["name"] for q in body["queues"]} == {"webhooks", "inbound", "jobs", "alerts"}
    assert [r["name"] for r in body["runs"]] == ["sweep", "snapshot", "alerts", "retention", "digest"]


def test_alert_history_shows_on_the_system_page(app, client, staff):
    from flask_babel import lazy_gettext as _l

    from app.audit import SYSTEM, record

    with app.app_context():
        record(SYSTEM, "alert.fired", _l("%(rule)s fired: %(summary)s", rule="Backlog",
                                         summary="the oldest pending delivery is 20 min overdue"),
               target_type="alert", after={"link": "/admin/?status=pending"})
        db.session.commit()
    staff("viewer")
    page = client.get("/admin/system/").get_data(as_text=True)
    assert "Backlog fired" in page and 'href="/admin/?status=pending"' in page


def post_settings(client, token, **values):
    page = client.get("/admin/settings/").get_data(as_text=True)
    form = {"csrf_token": token}
    for key in ("retry_cooldown_seconds", "retry_hourly_cap", "refresh_seconds", "payload_retention_days",
                "alert_success_rate_percent", "alert_window_minutes", "alert_min_attempts", "alert_backlog_minutes",
                "alert_email_to", "alert_webhook_url", "digest_email_to"):
        assert f'name="{key}"' in page, key
    form.update(values)
    return client.post("/admin/settings/", data=form, follow_redirects=True)


def test_admins_set_percentages_emails_and_the_30_day_retention_with_its_warning(app, client, staff):
    token = staff("admin")
    page = post_settings(client, token, payload_retention_days="30", alert_success_rate_percent="97.5",
                         alert_email_to="ops@example.com, oncall@example.com").get_data(as_text=True)
    assert "Settings saved." in page and "Payloads are kept 30 days." in page and "privacy" in page
    with app.app_context():
        values = {row.key: row.value for row in db.session.scalars(select(Setting))}
        assert values == {"payload_retention_days": 30, "alert_success_rate_percent": 97.5,
                          "alert_email_to": ["ops@example.com", "oncall@example.com"]}
        audited = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "setting.update")).all()
        assert {e.target_ids[0] for e in audited} == set(values)
        assert all(e.actor == "admin@example.com" for e in audited)


def test_bad_settings_are_refused_with_a_message_and_change_nothing(app, client, staff):
    token = staff("admin")
    page = post_settings(client, token, payload_retention_days="14", alert_success_rate_percent="120",
                         alert_email_to="not-an-address", alert_webhook_url="ftp://x").get_data(as_text=True)
    assert "choose 7 or 30" in page and "must be from 0 to 100" in page
    assert "not an email address: not-an-address" in page and "enter an http:// or https:// URL" in page
    with app.app_context():
        assert db.session.scalars(select(Setting)).all() == []


def test_only_admins_change_settings(client, staff):
    token = staff("operator")
    assert client.get("/admin/settings/").status_code == 403
    assert client.post("/admin/settings/", data={"csrf_token": token, "alert_min_attempts": "1"}).status_code == 403


def test_viewers_see_the_system_page_but_anonymous_people_sign_in(client, staff):
    assert client.get("/admin/system/").status_code == 302
    staff("viewer")
    assert client.get("/admin/system/").status_code == 200


def test_csrf_is_required_to_change_settings(client, staff):
    staff("admin")
    assert client.post("/admin/settings/", data={"alert_min_attempts": "1"}).status_code == 400
    assert csrf_from(client.get("/admin/settings/").get_data(as_text=True))
