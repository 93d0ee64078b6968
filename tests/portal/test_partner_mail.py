"""An endpoint's partner contact gets one email per change of state (failing, disabled, recovered) with a fresh
view-only portal link of short expiry, rate-limited; to a real local SMTP server."""

import re
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import AuditEntry, Endpoint, PortalLink
from app.portal.partner_mail import email_partner
from tests.portal.conftest import open_portal
from tests.support.factories import load_endpoint, send, update
from tests.support.receiver import Reply, closed_port


def drain(broker, worker):
    for queue in ("webhooks", "alerts", "jobs"):
        broker.join(queue)
    worker.join()


def _partner_mails(smtp):
    return [m for m in smtp.messages if m["To"] == "qr@partner.example"]


def _link(mail):
    return re.search(r"(http\S+/portal/enter#\S+)", mail.get_payload(decode=True).decode()).group(1)


@pytest.fixture
def partner_mail(app, alerts):
    app.config.update(PUBLIC_URL="https://hooks.example.com", PORTAL_PARTNER_EMAIL_INTERVAL_SECONDS=0)
    return alerts[1]


def test_partner_hears_of_failing_and_recovery_once_each_with_a_view_only_link(app, make_endpoint, receiver,
                                                                              partner_mail, broker, worker):
    endpoint = make_endpoint(max_attempts=1, partner_email="qr@partner.example", name="QR printer")
    receiver.default = Reply(503)
    for _ in range(7):
        send(app)
        drain(broker, worker)
        update(app, Endpoint, endpoint.id, breaker_open_until=None)
    receiver.default = Reply(200)
    send(app)
    drain(broker, worker)
    mails = _partner_mails(partner_mail)
    assert [m["Subject"] for m in mails] == ["Webhooks to QR printer is failing",
                                             "Webhooks to QR printer has recovered"]
    links = [_link(m) for m in mails]
    assert links[0] != links[1]
    assert all(link.startswith("https://hooks.example.com/portal/enter#hyp_") for link in links)
    assert endpoint.secret not in mails[0].as_string()
    with app.app_context():
        rows = db.session.query(PortalLink).order_by(PortalLink.created_at).all()
        assert [row.capabilities for row in rows] == [["view"], ["view"]]
        assert all(row.expires_at - row.created_at == timedelta(seconds=86400) for row in rows)
        assert db.session.query(AuditEntry).filter_by(action="portal.partner_email").count() == 2
    browser = app.test_client()
    assert open_portal(browser, links[1])
    assert browser.get(f"/portal/endpoints/{endpoint.id}").status_code == 200
    assert 'id="send-test"' not in browser.get(f"/portal/endpoints/{endpoint.id}").get_data(as_text=True)


def test_partner_emails_are_rate_limited(app, make_endpoint, partner_mail):
    app.config["PORTAL_PARTNER_EMAIL_INTERVAL_SECONDS"] = 3600
    endpoint = make_endpoint(partner_email="qr@partner.example")
    with app.app_context():
        assert email_partner("failing", endpoint.id, "5 failures in a row") == "sent"
        assert email_partner("recovered", endpoint.id, "answered 200") == "rate limited"
        assert db.session.query(PortalLink).count() == 1
    assert len(_partner_mails(partner_mail)) == 1


def test_no_contact_no_email(app, make_endpoint, partner_mail):
    endpoint = make_endpoint()
    with app.app_context():
        assert email_partner("failing", endpoint.id, "5 failures in a row") == "no contact"
        assert email_partner("paused", endpoint.id, "asked by receiver") == "no contact"
        assert db.session.query(PortalLink).count() == 0


def test_a_failed_send_revokes_the_link_and_frees_the_interval(app, make_endpoint, partner_mail):
    app.config.update(PORTAL_PARTNER_EMAIL_INTERVAL_SECONDS=3600, SMTP_PORT=closed_port())
    endpoint = make_endpoint(partner_email="qr@partner.example")
    with app.app_context():
        with pytest.raises(OSError):
            email_partner("failing", endpoint.id, "5 failures in a row")
        link = db.session.query(PortalLink).one()
        assert link.revoked_at is not None
    assert load_endpoint(app, endpoint.id).partner_emailed_at is None


def test_partner_email_is_checked_and_shown(app, client, auth, make_endpoint):
    endpoint = make_endpoint()
    bad = client.patch(f"/api/v1/endpoints/{endpoint.id}", headers=auth, json={"partner_email": "not an address"})
    assert bad.status_code == 422 and bad.json["field"] == "partner_email"
    good = client.patch(f"/api/v1/endpoints/{endpoint.id}", headers=auth, json={"partner_email": "qr@partner.example"})
    assert good.status_code == 200 and good.json["partner_email"] == "qr@partner.example"
