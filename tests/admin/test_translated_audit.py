"""Audit summaries and skip reasons in the reader's language: an entry keeps its English text (what the API, the CLI
and exports read) and its message with the values apart, so a Vietnamese admin reads it in Vietnamese."""

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit import SYSTEM, Action, record, shown_summary
from app.extensions import db
from app.models import AuditEntry
from app.stored_text import NotAMessage
from tests.admin.test_language import choose
from tests.admin.test_monitor import seeded  # noqa: F401  (a fixture)


def _entry(app, action):
    with app.app_context():
        return db.session.scalar(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc()))


def test_a_vietnamese_admin_reads_the_audit_log_in_vietnamese_while_english_is_stored(app, client, staff):
    token = staff("admin")
    choose(client, token, "vi")
    client.post("/admin/settings/", data={"csrf_token": token, "breaker_threshold": "3"})
    setting, language = _entry(app, "setting.update"), _entry(app, "user.locale")
    assert setting.summary == "breaker_threshold: 5 -> 3"  # English, with the values of the moment
    assert language.summary == "language of admin@example.com: browser -> vi"
    assert language.summary_message == {"msgid": "language of %(email)s: %(before)s -> %(after)s", "values": {
        "email": "admin@example.com", "before": {"msgid": "browser"}, "after": "vi"}}
    vietnamese = client.get("/admin/audit/").get_data(as_text=True)
    assert "breaker_threshold: 5 → 3" in vietnamese
    assert "ngôn ngữ của admin@example.com: theo trình duyệt → vi" in vietnamese
    assert "language of admin@example.com" not in vietnamese
    choose(client, token, "en")
    english = client.get("/admin/audit/").get_data(as_text=True)
    assert "language of admin@example.com: browser -&gt; vi" in english and "ngôn ngữ" not in english


def test_a_skip_reason_reads_in_vietnamese_in_the_flash_and_the_audit_log_and_stays_english_stored(
        app, client, staff, seeded):  # noqa: F811
    token = staff("admin")
    choose(client, token, "vi")
    client.post("/admin/action/", data={"csrf_token": token, "action": "retry", "rowid": [seeded["bad"], seeded["ok"]]})
    monitor = client.get("/admin/").get_data(as_text=True)
    vietnamese = ("Đã thử lại 1 lượt gửi; bỏ qua 1 (1 đang ở trạng thái thành công; chỉ các lượt gửi thất bại hoặc "
                  "đang chờ mới có thể thử lại)")
    assert vietnamese in monitor and "is succeeded" not in monitor
    entry = _entry(app, "deliveries.retry")
    assert entry.summary == ("retried 1 delivery; skipped 1 (1 is succeeded; only failed or pending deliveries can "
                             "be retried)")
    assert entry.after == {"skipped": {"is succeeded; only failed or pending deliveries can be retried": 1}}
    assert vietnamese in client.get("/admin/audit/").get_data(as_text=True)


def test_the_api_keeps_a_skip_reason_in_english(client, auth, seeded):  # noqa: F811
    response = client.post(f"/api/v1/deliveries/{seeded['ok']}/retry", headers={**auth, "Accept-Language": "vi"})
    assert response.status_code == 409
    assert response.json["error"] == ("delivery {} is succeeded; only failed or pending deliveries can be "
                                      "retried".format(seeded["ok"]))


def test_an_entry_written_before_summaries_kept_their_message_shows_its_stored_text(app, client, staff):
    with app.app_context():
        db.session.add(AuditEntry(actor="system", action="endpoint.recover", summary="recovered in the old days"))
        db.session.commit()
    token = staff("admin")
    choose(client, token, "vi")
    assert "recovered in the old days" in client.get("/admin/audit/").get_data(as_text=True)


def test_the_alert_history_on_the_system_page_reads_in_vietnamese(app, client, staff):
    with app.app_context():
        record(SYSTEM, Action.ALERT_FIRED, _l("%(rule)s fired: %(summary)s", rule="Backlog", summary="30 pending"),
               target_type="alert")
        db.session.commit()
    token = staff("viewer")
    choose(client, token, "vi")
    assert "Backlog đã kích hoạt: 30 pending" in client.get("/admin/system/").get_data(as_text=True)


def test_a_summary_that_no_longer_fits_its_translation_reads_as_stored(app):
    entry = AuditEntry(summary="paused https://shop.example", summary_message={"msgid": "paused %(name)s",
                                                                               "values": {}})
    with app.test_request_context(), force_locale("vi"):
        assert shown_summary(entry) == "paused https://shop.example"


def test_a_plain_string_summary_is_refused_and_nothing_is_added(app, db):
    with app.app_context():
        for summary in ("retried", f"retried {1 + 1}"):
            try:
                record(SYSTEM, Action.DELIVERIES_RETRY, summary)
            except NotAMessage as exc:
                assert "is not a lazy message" in str(exc)
            else:
                raise AssertionError("a plain string summary was taken")
        db.session.commit()
        assert db.session.scalars(select(AuditEntry)).all() == []


def test_a_long_list_of_ids_is_noted_in_both_languages(app, db):
    with app.app_context():
        entry = record(SYSTEM, Action.DELIVERIES_RETRY, _l("signed in"), target_ids=range(1005))
        assert entry.summary == "signed in (first 1000 of 1005 ids listed)"
        with app.test_request_context(), force_locale("vi"):
            assert shown_summary(entry) == "đã đăng nhập (liệt kê 1000 id đầu tiên trong 1005)"


def test_a_bulk_job_says_why_it_skipped_rows_in_the_readers_language(app, client, staff, make_endpoint):
    from app.delivery.operations import bulk
    from app.delivery.queries import DeliveryFilter
    from app.models import BulkJob, Delivery, utcnow
    from tests.admin.test_jobs import failed_deliveries
    from tests.support.factories import update

    make_endpoint()
    ids = failed_deliveries(app, 2)
    update(app, Delivery, ids[0], manual_retry_at=utcnow())  # retried by hand a moment ago
    with app.app_context():
        job_id = bulk.start_bulk_retry(DeliveryFilter(), actor=SYSTEM).id
        bulk.run_bulk_job(job_id, cooldown_seconds=300)
    token = staff("operator")
    choose(client, token, "vi")
    page = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "1 đã được thử lại thủ công trong 5 phút vừa qua (thời gian chờ)" in page
    assert client.get(f"/admin/jobs/{job_id}.json").json["skipped"] == {
        "retried by hand in the last 5 min (cooldown)": 1}  # scripts read English
    with app.app_context():  # a job from before skip reasons kept their message reads as stored
        db.session.get(BulkJob, job_id).skipped_messages = None
        db.session.commit()
    assert "1 retried by hand in the last 5 min (cooldown)" in client.get(f"/admin/jobs/{job_id}").get_data(
        as_text=True)


def test_an_attempts_error_class_reads_in_vietnamese_beside_its_stored_english_text(app, client, staff, seeded):  # noqa: F811
    from app.models import Delivery, ErrorClass
    from tests.support.factories import update

    update(app, Delivery, seeded["bad"], last_error_class=ErrorClass.TIMEOUT, last_error="timed out after 10 s")
    token = staff("viewer")
    choose(client, token, "vi")
    monitor = client.get("/admin/?status=failed").get_data(as_text=True)
    assert ('<span class="badge badge-danger">hết thời gian</span> <span class="error-text">timed out after 10 s'
            in monitor)
    assert '<option value="timeout">hết thời gian</option>' in monitor  # the filter still sends the class
    choose(client, token, "en")
    assert '<span class="badge badge-danger">timeout</span>' in client.get("/admin/?status=failed").get_data(
        as_text=True)


def test_a_summary_too_long_to_keep_as_a_message_reads_as_its_english_text(app, db):
    with app.app_context():
        entry = record(SYSTEM, Action.ENDPOINT_UPDATE, _l("changed %(fields)s of %(url)s", fields="x" * 5000,
                                                         url="https://shop.example"))
        assert entry.summary_message is None and entry.summary == "changed " + "x" * 992


def test_a_value_in_a_translated_summary_is_escaped_on_the_page(app, client, staff):
    with app.app_context():
        record(SYSTEM, Action.ENDPOINT_PAUSE, _l("paused: %(reason)s; its pending deliveries wait",
                                                 reason="<script>alert(1)</script>"), target_type="endpoint")
        db.session.commit()
    token = staff("admin")
    choose(client, token, "vi")
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "đã tạm dừng: &lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
