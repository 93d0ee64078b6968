"""The overview page: who sees it, what it links to, its refresh fragment, and "retry this group"."""

import html as htmllib
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest

from app.audit import Actor
from app.console.overview import RANGES, delivery_buckets
from app.extensions import db
from app.inbound import counts
from app.models import AuditEntry, BulkJob, Delivery, DeliveryStatus, utcnow
from app.staff.settings import get_setting, set_setting
from tasks.bulk import run_bulk_job
from tests.inbound.sources_helpers import new_source
from tests.support.factories import insert_delivery, load
from tests.support.staff import csrf_from, make_user

#: A group row of the top errors table: its key, its count and its links.
GROUP_ROW = re.compile(r'<tr data-group data-endpoint-id="(?P<endpoint>[^"]+)" data-error-class="(?P<error>\w+)" '
                       r'data-http-status="(?P<status>\w+)">(?P<row>.*?)</tr>', re.S)


def groups(html):
    """{(endpoint id, error class, http status): {"count", "see", "retry"}} from the top errors table."""
    found = {}
    for match in GROUP_ROW.finditer(html):
        row = match["row"]
        links = {name: htmllib.unescape(href) for name, href in
                 re.findall(r'data-(see|retry)-group href="([^"]+)"', row)}
        count = int(re.search(r"data-count>([\d,]+)<", row).group(1).replace(",", ""))
        found[(match["endpoint"], match["error"], match["status"])] = {"count": count, **links}
    return found


@pytest.fixture
def failures(app, make_endpoint):
    """Two groups of failed deliveries on one endpoint and one on another, plus a pending delivery."""
    shop, billing = make_endpoint(name="Shop").id, make_endpoint(name="Billing").id
    now = utcnow()
    ids = {"shop_500": [insert_delivery(app, shop, "failed", now - timedelta(minutes=n), last_attempt_at=now,
                                        response_status=500, error_class="http", error="HTTP 500")
                        for n in (1, 2, 3)],
           "shop_refused": [insert_delivery(app, shop, "failed", now, last_attempt_at=now, error_class="connection",
                                            error="connection refused")],
           "billing_500": [insert_delivery(app, billing, "failed", now, last_attempt_at=now, response_status=500,
                                           error_class="http", error="HTTP 500")],
           "pending": [insert_delivery(app, shop, "pending", now)]}
    return SimpleNamespace(shop=shop, billing=billing, ids=ids)


@pytest.mark.parametrize("path", ["/admin/overview/", "/admin/overview/figures"])
def test_anonymous_people_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_staff_land_on_the_overview_after_sign_in(app, client):
    make_user(app, "viewer")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": "viewer@example.com", "password": "correct horse battery",
                                           "csrf_token": token})
    assert response.headers["Location"].endswith("/admin/overview/")
    assert client.get("/admin/home/").headers["Location"].endswith("/admin/overview/")


def test_the_overview_is_the_first_menu_entry(client, staff):
    staff("viewer")
    page = client.get("/admin/overview/").get_data(as_text=True)
    menu = re.findall(r'<a class="nav-link ?" href="(/admin/[^"]*)"', page)
    assert menu[:2] == ["/admin/overview/", "/admin/"]


def test_a_viewer_reads_the_figures_and_sees_the_groups_but_no_retry(app, client, staff, failures):
    staff("viewer")
    response = client.get("/admin/overview/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for figure in ("success_1h", "success_24h", "failed_1h", "pending", "endpoints_active", "endpoints_failing",
                   "p95_24h"):
        assert f'data-figure="{figure}"' in page
    found = groups(page)
    assert found[(failures.shop, "http", "500")]["count"] == 3
    assert all("retry" not in group for group in found.values()) and "Retry this group" not in page


def test_see_the_group_opens_the_monitor_on_exactly_that_group(app, client, staff, failures):
    staff("viewer")
    found = groups(client.get("/admin/overview/").get_data(as_text=True))
    assert {key: group["count"] for key, group in found.items()} == {(failures.shop, "http", "500"): 3,
                                                                     (failures.shop, "connection", "none"): 1,
                                                                     (failures.billing, "http", "500"): 1}
    see = found[(failures.shop, "http", "500")]["see"]
    assert see.startswith("/admin/?") and "status=failed" in see
    listed = set(re.findall(r'href="/admin/log/(dlv_\w+)\?', client.get(see).get_data(as_text=True)))
    assert listed == set(failures.ids["shop_500"])
    refused = found[(failures.shop, "connection", "none")]["see"]
    assert set(re.findall(r'href="/admin/log/(dlv_\w+)\?', client.get(refused).get_data(as_text=True))) == set(
        failures.ids["shop_refused"])


def test_failed_last_hour_links_to_the_deliveries_it_counts(app, client, staff, failures):
    insert_delivery(app, failures.shop, "failed", utcnow() - timedelta(hours=3),
                    last_attempt_at=utcnow() - timedelta(hours=2), response_status=500, error_class="http")
    staff("viewer")
    page = client.get("/admin/overview/").get_data(as_text=True)
    card = re.search(r'data-figure="failed_1h">(.*?)</div>\s*</div>', page, re.S).group(1)
    assert re.search(r"data-value>5<", card)
    link = htmllib.unescape(re.search(r'href="([^"]+)"', card).group(1))
    assert len(set(re.findall(r'href="/admin/log/(dlv_\w+)\?', client.get(link).get_data(as_text=True)))) == 5


def test_the_figures_fragment_is_only_the_figures_and_polls_itself(client, staff, failures):
    staff("viewer")
    fragment = client.get("/admin/overview/figures").get_data(as_text=True)
    assert fragment.lstrip().startswith("<div id=\"overview-figures\"") and "<html" not in fragment
    assert 'hx-get="/admin/overview/figures"' in fragment and 'hx-trigger="every 30s"' in fragment
    assert 'hx-swap="outerHTML"' in fragment and "data-poll" in fragment


def test_the_page_holds_no_inline_script_style_or_handler(client, staff, failures):
    staff("operator")
    page = client.get("/admin/overview/").get_data(as_text=True)
    fragment = client.get("/admin/overview/figures").get_data(as_text=True)
    assert not re.search(r"\sstyle=|\son[a-z]+=|<script|<style", fragment, re.I)
    own_scripts = re.findall(r"<script[^>]*>", page.split("overview-figures", 1)[1])
    assert own_scripts and all(" src=" in tag for tag in own_scripts)
    assert page.count('/static/vendor/htmx-2.0.10.min.js') == 1 and '/static/overview.js' in page


def test_static_files_are_served(client):
    for path in ("/static/overview.js", "/static/overview.css", "/static/vendor/htmx-2.0.10.min.js"):
        assert client.get(path).status_code == 200, path


def test_an_operator_gets_retry_this_group_with_the_exact_count(app, client, staff, failures):
    staff("operator")
    group = groups(client.get("/admin/overview/").get_data(as_text=True))[(failures.shop, "http", "500")]
    assert group["retry"].startswith("/admin/jobs/retry-matching?")
    confirmation = client.get(group["retry"]).get_data(as_text=True)
    assert re.search(r"data-count>3<", confirmation) and "Shop" in confirmation


def confirm_form(client, url):
    """The hidden fields of the confirmation form at url."""
    page = client.get(url).get_data(as_text=True)
    form = re.search(r'<form method="post"[^>]*id="confirm-retry">(.*?)</form>', page, re.S).group(1)
    return {name: htmllib.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)}


def test_a_viewer_cannot_retry_a_group(app, client, staff, failures):
    operator = app.test_client()
    from tests.support.staff import sign_in

    make_user(app, "operator")
    sign_in(operator, "operator@example.com")
    group = groups(operator.get("/admin/overview/").get_data(as_text=True))[(failures.shop, "http", "500")]
    fields = confirm_form(operator, group["retry"])
    token = staff("viewer")
    assert client.get(group["retry"]).status_code == 403
    assert client.post("/admin/jobs/retry-matching", data={**fields, "csrf_token": token}).status_code == 403
    with app.app_context():
        assert db.session.query(BulkJob).count() == 0
        assert not db.session.query(AuditEntry).filter(AuditEntry.action.like("deliveries.%")).count()
    assert all(load(app, i).status is DeliveryStatus.FAILED for i in failures.ids["shop_500"])


def test_retry_this_group_retries_exactly_that_group(app, client, staff, failures):
    token = staff("operator")
    group = groups(client.get("/admin/overview/").get_data(as_text=True))[(failures.shop, "http", "500")]
    response = client.post("/admin/jobs/retry-matching", data={**confirm_form(client, group["retry"]),
                                                               "csrf_token": token})
    assert re.match(r"/admin/jobs/job_\w+$", response.headers["Location"])
    with app.app_context():
        (job,) = db.session.query(BulkJob).all()
        job_id = job.id
        run_bulk_job(job_id)  # the actor, called directly: the pipeline test below runs it on the worker
        job = db.session.get(BulkJob, job_id)
        assert (job.total, job.changed, job.skipped) == (3, 3, {})
        (entry,) = db.session.query(AuditEntry).filter_by(action="deliveries.bulk_retry").all()
        assert entry.actor == "operator@example.com"
        rows = {d.id: d for d in db.session.query(Delivery)}
    assert {i for i, d in rows.items() if d.next_trigger is not None} == set(failures.ids["shop_500"])
    others = failures.ids["shop_refused"] + failures.ids["billing_500"]
    assert all(rows[i].status is DeliveryStatus.FAILED and rows[i].next_trigger is None for i in others)


def test_a_group_retry_counts_against_the_hourly_cap(app, client, staff, failures):
    token = staff("operator")
    with app.app_context():
        set_setting("retry_hourly_cap", 1, actor=Actor("admin@example.com"))
    urls = {key: group["retry"] for key, group in groups(client.get("/admin/overview/").get_data(as_text=True)).items()}
    billing, shop = urls[(failures.billing, "http", "500")], urls[(failures.shop, "http", "500")]
    first = client.post("/admin/jobs/retry-matching", data={**confirm_form(client, billing), "csrf_token": token})
    assert "/admin/jobs/job_" in first.headers["Location"]
    second = client.post("/admin/jobs/retry-matching", data={**confirm_form(client, shop), "csrf_token": token},
                         follow_redirects=True)
    assert "Retry limit reached: 1 of 1 retry actions used in the last hour" in second.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(BulkJob).count() == 1


def test_a_group_retry_skips_deliveries_retried_by_hand_within_the_cooldown(app, client, staff, failures):
    from tests.support.factories import update

    token = staff("operator")
    recent = failures.ids["shop_500"][0]
    update(app, Delivery, recent, manual_retry_at=utcnow())
    group = groups(client.get("/admin/overview/").get_data(as_text=True))[(failures.shop, "http", "500")]
    client.post("/admin/jobs/retry-matching", data={**confirm_form(client, group["retry"]), "csrf_token": token})
    with app.app_context():
        (job,) = db.session.query(BulkJob).all()
        job_id, cooldown = job.id, get_setting("retry_cooldown_seconds")
        run_bulk_job(job_id)
        job = db.session.get(BulkJob, job_id)
        assert cooldown and (job.total, job.changed) == (3, 2)
        assert list(job.skipped.values()) == [1] and "cooldown" in next(iter(job.skipped))
    assert load(app, recent).status is DeliveryStatus.FAILED


def test_no_failures_says_so(client, staff, db):
    staff("viewer")
    page = client.get("/admin/overview/").get_data(as_text=True)
    assert 'id="no-errors"' in page and 'id="top-errors"' not in page


def test_inbound_cards_show_once_a_source_exists_and_link_to_the_inbound_page(app, client, staff):
    staff("viewer")
    assert 'id="inbound-cards"' not in client.get("/admin/overview/").get_data(as_text=True)
    new_source(app)
    with app.app_context():
        for kind in ("received", "received", "processed", "failed", "failed", "failed", "bad_signature"):
            counts.count(db.session, "shop", kind)
        counts.count(db.session, "shop", "failed", utcnow() - timedelta(hours=25))  # out of the window
        db.session.commit()
    page = client.get("/admin/overview/").get_data(as_text=True)
    cards = page.split('id="inbound-cards"', 1)[1]
    assert re.search(r'data-figure="inbound_received_24h">.*?data-value>2<.*?href="/admin/inbound/"', cards, re.S)
    assert re.search(r'data-figure="inbound_processed_24h">.*?data-value>1<', cards, re.S)
    assert re.search(r'data-figure="inbound_failed_24h">.*?data-value>3<.*?href="/admin/inbound/\?status=failed"',
                     cards, re.S)


def fail_through_the_pipeline(app, broker, worker, receiver, reply, event_type, count):
    """Send count messages while the receiver answers reply; return their delivery ids once the worker is done."""
    from tasks.deliveries import deliver_webhook
    from tests.support.factories import send

    receiver.default = reply
    ids = [i for n in range(count) for i in send(app, event_type, {"n": n})[1]]
    broker.join(deliver_webhook.queue_name)
    worker.join()
    assert all(load(app, i).status is DeliveryStatus.FAILED for i in ids)
    return ids


def test_a_group_retry_on_the_worker_sends_exactly_that_group_again(app, client, staff, make_endpoint, receiver,
                                                                   broker, worker):
    from tasks.deliveries import deliver_webhook
    from tests.support.receiver import Reply

    shop = make_endpoint(name="Shop", event_types=["order.*"], max_attempts=1).id
    make_endpoint(name="Billing", event_types=["invoice.*"], max_attempts=1)
    group = fail_through_the_pipeline(app, broker, worker, receiver, Reply(500), "order.created", 3)
    others = (fail_through_the_pipeline(app, broker, worker, receiver, Reply(422), "order.created", 2)
              + fail_through_the_pipeline(app, broker, worker, receiver, Reply(500), "invoice.paid", 2))
    receiver.default, sent_before = Reply(200), len(receiver.requests)

    token = staff("operator")
    retry = groups(client.get("/admin/overview/").get_data(as_text=True))[(shop, "http", "500")]["retry"]
    client.post("/admin/jobs/retry-matching", data={**confirm_form(client, retry), "csrf_token": token})
    broker.join(run_bulk_job.queue_name)
    broker.join(deliver_webhook.queue_name)
    worker.join()

    assert len(receiver.requests) - sent_before == 3
    for delivery_id in group:
        delivery = load(app, delivery_id)
        assert delivery.status is DeliveryStatus.SUCCEEDED
        last = delivery.attempts_list[-1]
        assert last.trigger.value == "bulk" and last.triggered_by.startswith("operator@example.com")
    assert all(load(app, i).status is DeliveryStatus.FAILED and load(app, i).attempt_count == 1 for i in others)
    assert (shop, "http", "500") not in groups(client.get("/admin/overview/").get_data(as_text=True))


@pytest.mark.parametrize(("key", "bars"), [("1h", 60), ("6h", 72), ("24h", 288), ("7d", 168)])
def test_the_charts_cover_the_range_asked_for(client, staff, key, bars):
    staff("viewer")
    html = client.get(f"/admin/overview/?range={key}").get_data(as_text=True)
    assert f'data-range="{key}" aria-current="page"' in html
    refresh = "/admin/overview/figures" + ("" if key == "24h" else f"?range={key}")
    assert f'hx-get="{refresh}"' in html  # the refresh keeps the range
    fragment = client.get(f"/admin/overview/figures?range={key}").get_data(as_text=True)
    assert f'data-range="{key}" aria-current="page"' in fragment
    with client.application.app_context():
        assert len(delivery_buckets(utcnow(), RANGES[key])) == bars


def test_an_unknown_range_is_refused(client, staff):
    staff("viewer")
    response = client.get("/admin/overview/?range=1y")
    assert response.status_code == 400 and "range must be one of 1h, 6h, 24h, 7d" in response.get_data(as_text=True)
