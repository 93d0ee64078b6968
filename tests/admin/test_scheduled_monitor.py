import re
from datetime import timedelta

from app.extensions import db
from app.models import AuditEntry, DeliveryStatus, utcnow
from tests.support.factories import load, send


def scheduled(app, days=3):
    return send(app, reference="#1001", deliver_at=utcnow() + timedelta(days=days))[1][0]


def test_the_monitor_shows_a_scheduled_delivery_with_its_time(app, client, staff, make_endpoint):
    make_endpoint()
    delivery_id = scheduled(app)
    when = load(app, delivery_id).next_attempt_at
    staff("viewer")
    page = client.get("/admin/").get_data(as_text=True)
    assert re.search(rf'data-scheduled="{re.escape(when.isoformat())}"', page)
    assert f"scheduled for {when:%Y-%m-%d %H:%M:%S}" in page  # the viewer's zone is UTC by default
    assert 'data-action="send_now"' not in page  # a viewer only reads
    log = client.get(f"/admin/log/{delivery_id}").get_data(as_text=True)
    assert f"scheduled for {when:%Y-%m-%d %H:%M:%S}" in log
    message_id = load(app, delivery_id).message_id
    details = client.get("/admin/messages/details/", query_string={"id": message_id}).get_data(as_text=True)
    assert f'data-deliver-at="{when.isoformat()}"' in details


def test_an_operator_sends_a_scheduled_delivery_now_audited(app, client, staff, make_endpoint, broker):
    make_endpoint()
    delivery_id = scheduled(app)
    token = staff("operator")
    assert 'data-action="send_now"' in client.get("/admin/").get_data(as_text=True)
    assert client.post(f"/admin/send-now/{delivery_id}").status_code == 400  # no CSRF token
    assert load(app, delivery_id).scheduled_for is not None
    client.post(f"/admin/send-now/{delivery_id}", data={"csrf_token": token})
    delivery = load(app, delivery_id)
    assert delivery.scheduled_for is None and delivery.next_attempt_at <= utcnow()
    with app.app_context():
        (entry,) = db.session.query(AuditEntry).filter_by(action="delivery.send_now").all()
        assert entry.actor == "operator@example.com" and entry.target_ids == [delivery_id]


def test_send_now_and_cancel_as_a_bulk_action(app, client, staff, make_endpoint):
    make_endpoint()
    first, second = scheduled(app), scheduled(app, days=5)
    token = staff("operator")
    client.post("/admin/action/", data={"csrf_token": token, "action": "send_now", "rowid": [first]})
    client.post("/admin/action/", data={"csrf_token": token, "action": "cancel", "rowid": [second]})
    assert load(app, first).scheduled_for is None and load(app, first).status is DeliveryStatus.PENDING
    assert load(app, second).status is DeliveryStatus.CANCELLED
    with app.app_context():
        actions = {e.action for e in db.session.query(AuditEntry).filter(AuditEntry.action.like("deliveries.%"))}
        assert actions == {"deliveries.send_now", "deliveries.cancel"}


def test_viewers_cannot_send_now(app, client, staff, make_endpoint):
    make_endpoint()
    delivery_id = scheduled(app)
    token = staff("viewer")
    assert client.post(f"/admin/send-now/{delivery_id}", data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/action/", data={"csrf_token": token, "action": "send_now",
                                               "rowid": [delivery_id]}).status_code == 403
    assert load(app, delivery_id).scheduled_for is not None


def test_the_scheduled_tab_counts_and_lists_only_what_waits_for_its_time(app, client, staff, make_endpoint):
    make_endpoint()
    later = scheduled(app)
    _, (due_now,) = send(app, reference="#1002")
    staff("viewer")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="count-scheduled" data-count>1<' in page and 'id="count-pending" data-count>2<' in page
    tab = client.get("/admin/", query_string={"status": "pending", "scheduled": "1"}).get_data(as_text=True)
    assert 'aria-current="page" data-tab="scheduled"' in tab
    assert later in tab and due_now not in tab
    assert 'href="/admin/?status=pending&amp;scheduled=1"' in page
    not_scheduled = client.get("/admin/", query_string={"status": "pending", "scheduled": "0"}).get_data(as_text=True)
    assert due_now in not_scheduled and later not in not_scheduled
    assert client.get("/admin/", query_string={"scheduled": "maybe"}).status_code == 200  # ignored, and said so
