"""The staff pages in the person's language: Preferences sets it, else the browser's Accept-Language, else English;
<html lang> follows, and relative times read as Vietnamese staff read them ("3 phút trước")."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.delivery.attempt.pipeline import attempt_delivery
from app.extensions import db
from app.models import AuditEntry, Delivery, User, utcnow
from tests.support.factories import send
from tests.support.receiver import Reply

#: The staff pages a Vietnamese reader opens most, each with a phrase it must show in Vietnamese.
PAGES = {
    "/admin/": "Theo dõi đồng bộ",
    "/admin/overview/": "Số liệu chính",
    "/admin/inbound/": "Webhook nhận vào",
    "/admin/endpoints/": "Endpoint",
    "/admin/preferences/": "Ngôn ngữ của các trang này",
    "/account/password": "Đổi mật khẩu",
    "/admin/messages/": "Mã tham chiếu",
    "/admin/audit/": "Người thực hiện",
    "/admin/users/": "Giới hạn thử lại mỗi giờ",
}


def choose(client, token, locale, time_zone="UTC", **options):
    return client.post("/admin/preferences/", data={"csrf_token": token, "time_zone": time_zone, "locale": locale},
                       **options)


def lang(html):
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def failed_delivery(app, receiver):
    receiver.reply(Reply(500))
    _, (delivery_id,) = send(app)
    with app.app_context():
        attempt_delivery(delivery_id)
        db.session.get(Delivery, delivery_id).last_attempt_at = utcnow() - timedelta(minutes=3)
        db.session.commit()
    return delivery_id


def test_a_person_who_chooses_vietnamese_reads_every_main_page_in_vietnamese(app, client, staff, make_endpoint,
                                                                            receiver):
    make_endpoint()
    failed_delivery(app, receiver)
    token = staff("admin")
    saved = choose(client, token, "vi", follow_redirects=True).get_data(as_text=True)
    assert "Đã lưu: thời gian hiển thị theo múi giờ UTC." in saved  # said in the language just chosen
    for url, phrase in PAGES.items():
        html = client.get(url).get_data(as_text=True)
        assert lang(html) == "vi", url
        assert phrase in html, url
    monitor = client.get("/admin/").get_data(as_text=True)
    assert "3 phút trước" in monitor and "Thử lại" in monitor and "Sync monitor" not in monitor


def test_the_choice_is_audited_and_kept_with_the_person(app, client, staff):
    token = staff("viewer")
    choose(client, token, "vi")
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.email == "viewer@example.com")) == "vi"
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.locale")).one()
        assert entry.before == {"locale": None} and entry.after == {"locale": "vi"}
    choose(client, token, "")
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.email == "viewer@example.com")) is None


def test_without_a_choice_the_browser_language_decides(client, staff):
    staff("viewer")
    vietnamese = client.get("/admin/", headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert lang(vietnamese) == "vi" and "Theo dõi đồng bộ" in vietnamese
    english = client.get("/admin/", headers={"Accept-Language": "fr-FR,en;q=0.5"}).get_data(as_text=True)
    assert lang(english) == "en" and "Sync monitor" in english
    assert lang(client.get("/admin/").get_data(as_text=True)) == "en"


def test_a_chosen_language_wins_over_the_browser(client, staff):
    token = staff("viewer")
    choose(client, token, "en")
    html = client.get("/admin/", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert lang(html) == "en" and "Sync monitor" in html


def test_the_sign_in_page_follows_the_browser(client):
    html = client.get("/login", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert lang(html) == "vi" and "Đăng nhập" in html and "Mật khẩu" in html


@pytest.mark.parametrize("locale", ["fr", "vi-VN", "x" * 40])
def test_a_language_the_pages_do_not_speak_is_refused_and_nothing_changes(app, client, staff, locale):
    token = staff("viewer")
    response = choose(client, token, locale, time_zone="Asia/Tokyo")
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "viewer@example.com")).one()
        assert user.locale is None and user.time_zone == "UTC"
        assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(("user.locale",
                                                                                      "user.time_zone")))).all()


def test_the_partner_portal_stays_english_for_a_vietnamese_browser(client):
    html = client.get("/portal/", headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert "phút" not in html and "Đăng" not in html
