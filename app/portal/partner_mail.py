"""Partner emails: when an endpoint starts failing, is disabled or recovers, its partner contact gets one email with
a fresh view-only portal link of short expiry, at most one per PORTAL_PARTNER_EMAIL_INTERVAL_SECONDS.

The alert that staff get is sent once per change of state (app.alerts); this follows the same change, once.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, update

from app.alerts import HEADLINES, send_email
from app.audit import SYSTEM, Action, record
from app.extensions import db
from app.models import Endpoint, utcnow
from app.portal.links import create_link, revoke_link
from app.staff.settings import get_setting

#: The changes of state a partner hears about.
PARTNER_KINDS = ("failing", "disabled", "recovered")


def _reserve(endpoint_id, now):
    """Take this interval's email of the endpoint (a compare-and-set); False when one went out within it."""
    since = now - timedelta(seconds=current_app.config["PORTAL_PARTNER_EMAIL_INTERVAL_SECONDS"])
    return db.session.execute(
        update(Endpoint).where(Endpoint.id == endpoint_id, Endpoint.partner_email.is_not(None),
                               or_(Endpoint.partner_emailed_at.is_(None), Endpoint.partner_emailed_at <= since))
        .values(partner_emailed_at=now).execution_options(synchronize_session=False)).rowcount == 1


def _subject(kind, endpoint, shop):
    subject = f"Webhooks to {endpoint.name or endpoint.url} {HEADLINES[kind]}"
    return f"{shop}: {subject}" if shop else subject


def _text(kind, endpoint, reason, url, expires_at, shop):
    sender = f"{shop} sends webhooks to your endpoint.\n\n" if shop else ""
    return (f"{sender}Your webhook endpoint {endpoint.name or endpoint.url} {HEADLINES[kind]}: {reason}.\n\n"
            f"See its deliveries, attempts and errors in the {shop + ' ' if shop else ''}partner portal (valid until "
            f"{expires_at:%Y-%m-%d %H:%M} UTC, view only):\n{url}\n\nEndpoint: {endpoint.url}\n")


def email_partner(kind, endpoint_id, reason):
    """Email the endpoint's partner contact about a change of state with a fresh view-only link; audited.

    Returns "sent", or why not ("no contact", "rate limited", "no PUBLIC_URL"). A failed send revokes the link and
    frees the interval again before raising, so the caller's retry sends it.
    """
    endpoint = db.session.get(Endpoint, endpoint_id)
    base = current_app.config["PUBLIC_URL"]
    if kind not in PARTNER_KINDS or endpoint is None or not endpoint.partner_email or endpoint.deleted_at:
        return "no contact"
    if not base or not current_app.config["SMTP_HOST"]:
        return "no PUBLIC_URL or SMTP_HOST"
    previous, now = endpoint.partner_emailed_at, utcnow()
    if not _reserve(endpoint.id, now):
        db.session.rollback()
        return "rate limited"
    link, token = create_link([endpoint.id], [], current_app.config["PORTAL_PARTNER_LINK_SECONDS"],
                                     actor=SYSTEM, audit=False)  # commits the reservation with the link
    try:
        shop = get_setting("shop_name")
        send_email([endpoint.partner_email], _subject(kind, endpoint, shop),
                   _text(kind, endpoint, reason, f"{base}/portal/enter#{token}", link.expires_at, shop))
    except Exception:
        revoke_link(link.id, actor=SYSTEM)
        db.session.execute(update(Endpoint).where(Endpoint.id == endpoint.id).values(partner_emailed_at=previous))
        db.session.commit()
        raise
    summary = _l("emailed the partner of %(url)s (%(kind)s) view-only portal link %(link)s", url=endpoint.url,
                 kind=kind, link=link.id)
    record(SYSTEM, Action.PORTAL_PARTNER_EMAIL, summary, target_type="endpoint", target_ids=[endpoint.id],
           after={"kind": kind, "to": endpoint.partner_email, "portal_link_id": link.id})
    db.session.commit()
    return "sent"
