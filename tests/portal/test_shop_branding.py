"""The shop's name and logo in the partner portal: an admin uploads a PNG, JPEG or WebP logo (checked by its bytes,
at most 256 KB), stored in the database and served from Hookyard's own origin; the portal's header and titles and the
partner emails show the name. Every change is audited; a refused file saves nothing."""

import hashlib
import io

import pytest

from app.audit import Actor
from app.extensions import db
from app.models import AuditEntry, ShopLogo
from app.portal.partner_mail import email_partner
from app.staff.branding import LOGO_MAX_BYTES
from app.staff.settings import set_setting
from tests.portal.conftest import make_link, open_portal
from tests.support.images import JPEG_START, WEBP_START, png


def upload(client, token, data, filename="logo.png", content_type="image/png"):
    return client.post("/admin/settings/logo", data={"csrf_token": token, "logo": (io.BytesIO(data), filename,
                                                                                    content_type)},
                       content_type="multipart/form-data")


def stored_logo(app):
    with app.app_context():
        row = db.session.get(ShopLogo, 1)
        return None if row is None else (row.content_type, bytes(row.data), row.uploaded_by)


def audit(app, prefix):
    with app.app_context():
        return [(e.actor, e.action, e.before, e.after) for e in db.session.query(AuditEntry).order_by(AuditEntry.id)
                if e.action.startswith(prefix)]


def portal_page(app, make_endpoint, path="/portal/"):
    """The portal's page as a partner sees it (a client of its own: a portal session ends a staff one)."""
    endpoint = make_endpoint()
    partner = app.test_client()
    assert open_portal(partner, make_link(app, [endpoint.id]).token)
    return partner, partner.get(path).get_data(as_text=True)


def test_an_uploaded_logo_and_the_shop_name_show_in_the_portal(app, client, staff, make_endpoint):
    token = staff("admin")
    client.post("/admin/settings/", data={"csrf_token": token, "shop_name": "Mosaic & Tiles"})
    image = png()
    assert upload(client, token, image).status_code == 302
    assert stored_logo(app) == ("image/png", image, "admin@example.com")
    partner, page = portal_page(app, make_endpoint)
    version = hashlib.sha256(image).hexdigest()[:16]
    assert f'<img src="/portal/logo?v={version}" alt="Mosaic &amp; Tiles logo"' in page
    assert '<span id="shop-name">Mosaic &amp; Tiles</span>' in page
    assert "<title>Your endpoints · Mosaic &amp; Tiles · partner portal</title>" in page
    served = partner.get(f"/portal/logo?v={version}")
    assert served.status_code == 200 and served.data == image
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=" in served.headers["Cache-Control"]
    assert "img-src 'self' data:" in served.headers["Content-Security-Policy"]
    again = partner.get(f"/portal/logo?v={version}", headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304
    ((actor, _, before, after),) = audit(app, "shop_logo")
    assert actor == "admin@example.com" and before is None
    assert after == {"content_type": "image/png", "size_bytes": len(image),
                     "digest": hashlib.sha256(image).hexdigest()}


def test_without_name_or_logo_the_header_is_as_before(app, make_endpoint):
    partner, page = portal_page(app, make_endpoint)
    assert "Webhooks · partner portal" in page and "<img" not in page
    assert "<title>Your endpoints · partner portal</title>" in page
    assert partner.get("/portal/logo").status_code == 404


@pytest.mark.parametrize("data, filename, content_type, says", [
    (b"GIF89a" + b"\x00" * 64, "logo.gif", "image/gif", "not a PNG, JPEG or WebP image"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg", "image/svg+xml",
     "not a PNG, JPEG or WebP image"),
    (b"just some text, renamed", "logo.png", "image/png", "not a PNG, JPEG or WebP image"),
    (png()[:8] + b"\x00" * LOGO_MAX_BYTES, "big.png", "image/png", "at most 256 KB"),
    (b"", "empty.png", "image/png", "choose an image file"),
])
def test_a_refused_file_answers_400_and_saves_nothing(app, client, staff, data, filename, content_type, says):
    token = staff("admin")
    response = upload(client, token, data, filename, content_type)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and says in page and 'id="logo-error"' in page
    assert stored_logo(app) is None and audit(app, "shop_logo") == []


def test_a_refused_file_keeps_the_logo_there_was(app, client, staff):
    token = staff("admin")
    upload(client, token, png())
    assert upload(client, token, b"not an image", "logo.png").status_code == 400
    assert stored_logo(app)[1] == png()


@pytest.mark.parametrize("start, content_type", [(JPEG_START, "image/jpeg"), (WEBP_START, "image/webp")])
def test_jpeg_and_webp_are_taken_by_their_bytes_whatever_the_name(app, client, staff, start, content_type):
    token = staff("admin")
    assert upload(client, token, start + b"\x00" * 100, "logo.txt", "text/plain").status_code == 302
    assert stored_logo(app)[0] == content_type
    served = client.get("/portal/logo")
    assert served.headers["Content-Type"] == content_type and served.headers["X-Content-Type-Options"] == "nosniff"


def test_removing_the_logo_is_audited_and_the_header_goes_back(app, client, staff, make_endpoint):
    token = staff("admin")
    upload(client, token, png())
    assert 'id="logo-preview"' in client.get("/admin/settings/").get_data(as_text=True)
    assert client.post("/admin/settings/logo/remove", data={"csrf_token": token}).status_code == 302
    assert stored_logo(app) is None
    assert [a[1] for a in audit(app, "shop_logo")] == ["shop_logo.update", "shop_logo.remove"]
    assert audit(app, "shop_logo")[1][2]["content_type"] == "image/png"
    _, page = portal_page(app, make_endpoint)
    assert "<img" not in page
    again = client.post("/admin/settings/logo/remove", data={"csrf_token": token}, follow_redirects=True)
    assert "there is no logo to remove" in again.get_data(as_text=True)


def test_only_admins_upload_or_remove_a_logo(app, client, staff):
    token = staff("operator")
    assert upload(client, token, png()).status_code == 403
    assert client.post("/admin/settings/logo/remove", data={"csrf_token": token}).status_code == 403
    assert stored_logo(app) is None


def test_partner_emails_carry_the_shop_name(app, make_endpoint, alerts):
    _, smtp = alerts
    app.config.update(PUBLIC_URL="https://hooks.example.com", PORTAL_PARTNER_EMAIL_INTERVAL_SECONDS=0)
    endpoint = make_endpoint(name="QR scanner", partner_email="qr@partner.example")
    with app.app_context():
        set_setting("shop_name", "Mosaic Tiles", actor=Actor("admin@example.com"))
        assert email_partner("failing", endpoint.id, "5 failures in a row") == "sent"
    (mail,) = [m for m in smtp.messages if m["To"] == "qr@partner.example"]
    assert mail["Subject"] == "Mosaic Tiles: Webhooks to QR scanner is failing"
    body = mail.get_payload(decode=True).decode()
    assert body.startswith("Mosaic Tiles sends webhooks to your endpoint.") and "Mosaic Tiles partner portal" in body
