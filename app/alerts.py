"""Alerts: an email through SMTP and/or a JSON POST, about endpoints (failing, disabled, paused, recovered), rules."""

import json
import smtplib
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.audit import SYSTEM, Action, record
from app.delivery.attempt import sender
from app.delivery.attempt.addresses import outbound_policy
from app.delivery.queries import pending_count
from app.errors import english
from app.extensions import db
from app.models import Endpoint, User, utcnow
from app.runbooks import runbook_path
from app.staff.settings import get_setting
from app.stored_text import joined

#: One line per kind, used as the email subject's start.
HEADLINES = {
    "failing": "is failing",
    "disabled": "was disabled",
    "recovered": "has recovered",
    "paused": "was paused by its receiver",
    "final_failure": "has a delivery that failed for good",
}
#: The same lines in an email's language.
EMAIL_HEADLINES = {
    "failing": _l("is failing"),
    "disabled": _l("was disabled"),
    "recovered": _l("has recovered"),
    "paused": _l("was paused by its receiver"),
    "final_failure": _l("has a delivery that failed for good"),
}
#: The audit action of each kind.
ACTIONS = {"failing": Action.ALERT_FAILING, "disabled": Action.ALERT_DISABLED, "recovered": Action.ALERT_RECOVERED,
           "paused": Action.ALERT_PAUSED, "final_failure": Action.ALERT_FINAL_FAILURE}


class AlertNotSent(Exception):
    """Raised when a configured alert channel refused the alert (the actor retries)."""


def alert_body(kind, endpoint, reason):
    """The alert as JSON-ready data; the same facts go into the email."""
    return {
        "type": f"endpoint.{kind}",
        "at": utcnow().isoformat(),
        "reason": reason,
        "runbook": f"{current_app.config['PUBLIC_URL']}{runbook_path(kind)}",
        "endpoint": {
            "id": endpoint.id, "name": endpoint.name, "url": endpoint.url, "state": endpoint.state.value,
            "state_reason": endpoint.state_reason, "consecutive_failures": endpoint.consecutive_failures,
            "failing_since": endpoint.failing_since.isoformat() if endpoint.failing_since else None,
            "pending_deliveries": pending_count(endpoint.id),
        },
    }


def recipients():
    """Return (notification URL or None, [email addresses]) from the Settings page, else the environment."""
    return get_setting("alert_webhook_url"), get_setting("alert_email_to")


def by_language(emails):
    """Group e-mail addresses by the language to write to them in: a member of staff's chosen language (their
    Preferences), else ALERT_EMAIL_LANGUAGE. Return {locale: [addresses]}, each in the order given."""
    chosen = dict(db.session.execute(select(func.lower(User.email), User.locale).where(
        func.lower(User.email).in_([email.lower() for email in emails]), User.locale.is_not(None))).all())
    groups = {}
    for email in emails:
        groups.setdefault(chosen.get(email.lower(), current_app.config["ALERT_EMAIL_LANGUAGE"]), []).append(email)
    return groups


def email_in_their_language(emails, compose):
    """Send one e-mail per language among emails (by_language): compose() returns (subject, text) and is called in
    that language."""
    for locale, group in by_language(emails).items():
        with force_locale(locale):
            subject, text = compose()
        send_email(group, subject, text)


def notify(subject, text, body, *, compose=None):
    """Send one alert to the notification URL (body as JSON) and by email (subject, text, the same for everyone;
    or, with compose, written in each recipient's language: email_in_their_language); return the channels."""
    url, emails = recipients()
    channels = []
    if url:
        _post(url, body)
        channels.append("webhook")
    if emails and current_app.config["SMTP_HOST"]:
        if compose is None:
            send_email(emails, subject, text)
        else:
            email_in_their_language(emails, compose)
        channels.append("email")
    return channels


def send_alert(kind, endpoint_id, reason):
    """Send one alert on every configured channel; audit it. Returns the channels used."""
    endpoint = db.session.get(Endpoint, endpoint_id)
    if endpoint is None:
        return []
    body = alert_body(kind, endpoint, reason)

    def compose():
        return (_("[Hookyard] Endpoint %(endpoint)s %(headline)s", endpoint=endpoint.name or endpoint.url,
                  headline=EMAIL_HEADLINES[kind]), _endpoint_text(body))

    channels = notify(None, None, body, compose=compose)
    record(SYSTEM, ACTIONS[kind], _l("%(endpoint)s %(headline)s: %(reason)s (sent by %(channels)s)",
                                     endpoint=endpoint.name or endpoint.url, headline=EMAIL_HEADLINES[kind],
                                     reason=reason, channels=", ".join(channels) or _l(
                                         "no channel: set ALERT_EMAIL_TO or ALERT_WEBHOOK_URL")),
           target_type="endpoint", target_ids=[endpoint_id], after={"channels": channels})
    db.session.commit()
    return channels


def _post(url, body):
    outcome = sender.post(url, json.dumps(body).encode(), {}, timeout=10, policy=outbound_policy(), body_limit=1024)
    if not outcome.ok:
        raise AlertNotSent(f"notification URL answered: {outcome.error}")


def _endpoint_text(body):
    facts = body["endpoint"]
    state = facts["state"] + (f" ({facts['state_reason']})" if facts["state_reason"] else "")
    lines = [f"{body['reason']}.", "", _("Endpoint: %(name)s %(url)s", name=facts["name"] or "", url=facts["url"]),
             _("State: %(state)s", state=state),
             _("Failures in a row: %(count)s", count=facts["consecutive_failures"]),
             _("Pending deliveries: %(count)s", count=facts["pending_deliveries"]),
             _("What to do: %(runbook)s", runbook=body["runbook"])]
    return "\n".join(lines) + "\n"


def send_email(to, subject, text):
    """Send a plain-text email through the configured SMTP server."""
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["SMTP_FROM"]
    message["To"] = ", ".join(to)
    message.set_content(text)
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)


def email_unconfigured():
    """Say whether alert or digest emails have recipients but no SMTP server to go through (SMTP_HOST unset)."""
    wanted = get_setting("alert_email_to") or get_setting("digest_email_to")
    return bool(wanted) and not current_app.config["SMTP_HOST"]


def sent_by(subject, channels):
    """An alert's audit summary: its subject (as sent) and the channels it went by."""
    return _l("%(subject)s (sent by %(channels)s)", subject=subject,
              channels=", ".join(channels) or _l("no channel configured"))


def send_test_alert(actor):
    """Send a test alert on every configured channel, each on its own; audited. Returns [(channel, ok, detail)]:
    what each channel did, or why it could not (no channel at all is one ("none", False, why)); a detail is
    translatable (str() it in the page's language), the audit entry keeps it in English."""
    url, emails = recipients()
    body = {"type": "test", "at": utcnow().isoformat(), "reason": f"a test alert sent by {actor.name}"}

    def compose():
        return _("[Hookyard] Test alert"), _("This is a test alert, sent by %(actor)s from the Settings page. Alerts "
                                             "reach you this way.", actor=actor.name) + "\n"

    results = []
    if url:
        results.append(_try("webhook", lambda: _post(url, body), _l("the notification URL accepted it")))
    if emails and not current_app.config["SMTP_HOST"]:
        results.append(("email", False, _l("no SMTP server is configured (set SMTP_HOST)")))
    elif emails:
        results.append(_try("email", lambda: email_in_their_language(emails, compose),
                            _l("sent to %(emails)s", emails=", ".join(emails))))
    if not results:
        results.append(("none", False, _l("no alert channel is set: enter alert email recipients or a notification "
                                          "URL")))
    summary = joined([_l("%(channel)s: %(outcome)s", channel=channel, outcome=_l("sent") if ok else _l("failed"))
                      for channel, ok, _ in results])
    record(actor, Action.ALERT_TEST, _l("sent a test alert (%(outcome)s)", outcome=summary), target_type="alert",
           after={"channels": {channel: ("sent" if ok else english(detail)) for channel, ok, detail in results}})
    db.session.commit()
    return results


def _try(channel, send, done):
    try:
        send()
    except Exception as exc:  # noqa: BLE001  the point of a test alert is to say what went wrong, whatever it is
        return channel, False, f"{type(exc).__name__}: {exc}"[:300]
    return channel, True, done
