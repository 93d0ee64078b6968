"""The daily digest email: yesterday's volume, success rate and top errors per endpoint (UTC days)."""

from datetime import datetime, time, timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import func, select

from app.alerts import email_in_their_language
from app.extensions import db
from app.models import AttemptTrigger, Delivery, DeliveryAttempt, DeliveryStatus, Endpoint, utcnow
from app.staff.settings import get_setting

#: Errors listed per endpoint.
TOP_ERRORS = 3


def _day_bounds(day):
    start = datetime.combine(day, time(), tzinfo=utcnow().tzinfo)
    return start, start + timedelta(days=1)


def build_digest(day):
    """Return the figures of one UTC day: deliveries created by status, attempts, and per endpoint."""
    start, end = _day_bounds(day)
    endpoints = dict(db.session.execute(select(Endpoint.id, Endpoint.name)).all())
    created = db.session.execute(select(Delivery.endpoint_id, Delivery.status, func.count()).where(
        Delivery.created_at >= start, Delivery.created_at < end).group_by(Delivery.endpoint_id, Delivery.status)).all()
    attempts = db.session.execute(
        select(DeliveryAttempt.endpoint_id, DeliveryAttempt.error_class, DeliveryAttempt.response_status, func.count())
        .where(DeliveryAttempt.endpoint_id.in_(list(endpoints)), DeliveryAttempt.started_at >= start,
               DeliveryAttempt.started_at < end, DeliveryAttempt.trigger != AttemptTrigger.TEST)
        .group_by(DeliveryAttempt.endpoint_id, DeliveryAttempt.error_class, DeliveryAttempt.response_status)).all()
    per_endpoint = {}
    for endpoint_id, error_class, status, count in attempts:
        figures = per_endpoint.setdefault(endpoint_id, {"name": endpoints.get(endpoint_id) or endpoint_id,
                                                        "attempts": 0, "failed": 0, "errors": {}})
        figures["attempts"] += count
        if error_class is not None:
            figures["failed"] += count
            label = f"HTTP {status}" if status else error_class.value
            figures["errors"][label] = figures["errors"].get(label, 0) + count
    total = sum(f["attempts"] for f in per_endpoint.values())
    failed = sum(f["failed"] for f in per_endpoint.values())
    by_status = {s.value: 0 for s in DeliveryStatus}
    for _, status, count in created:
        by_status[status.value] += count
    return {"day": day.isoformat(), "deliveries": sum(by_status.values()), "by_status": by_status,
            "attempts": total, "failed_attempts": failed,
            "success_rate": round(100.0 * (total - failed) / total, 1) if total else None,
            "endpoints": sorted(per_endpoint.values(), key=lambda f: (-f["failed"], f["name"]))}


def digest_text(digest):
    """The digest as a plain-text email body."""
    rate = f"{digest['success_rate']} %" if digest["success_rate"] is not None else gettext("no attempts")
    statuses = ", ".join(f"{n} {s}" for s, n in digest["by_status"].items() if n)
    lines = [gettext("Hookyard on %(day)s (UTC)", day=digest["day"]), "",
             gettext("Deliveries created: %(count)s (%(statuses)s)", count=digest["deliveries"], statuses=statuses),
             gettext("Attempts: %(attempts)s, failed: %(failed)s, success rate: %(rate)s",
                     attempts=digest["attempts"], failed=digest["failed_attempts"], rate=rate), "",
             gettext("Per endpoint (most failures first):")]
    for figures in digest["endpoints"]:
        top = sorted(figures["errors"].items(), key=lambda item: -item[1])[:TOP_ERRORS]
        errors = "; ".join(f"{label} x{n}" for label, n in top) or gettext("no errors")
        lines.append("- " + gettext("%(name)s: %(attempts)s attempts, %(failed)s failed (%(errors)s)",
                                    name=figures["name"], attempts=figures["attempts"], failed=figures["failed"],
                                    errors=errors))
    lines += ["", gettext("Monitor: %(url)s", url=f"{current_app.config['PUBLIC_URL']}/admin/")]
    return "\n".join(lines) + "\n"


def send_digest(day=None):
    """Email yesterday's digest (or day's) to the digest recipients; return what was sent."""
    day = day or (utcnow() - timedelta(days=1)).date()
    digest = build_digest(day)
    to = get_setting("digest_email_to") or get_setting("alert_email_to")
    if to and current_app.config["SMTP_HOST"]:
        email_in_their_language(to, lambda: (gettext("[Hookyard] Daily digest for %(day)s", day=digest["day"]),
                                             digest_text(digest)))
        return {"sent_to": len(to), "day": digest["day"], "deliveries": digest["deliveries"]}
    return {"sent_to": 0, "day": digest["day"], "reason": "no recipients or no SMTP_HOST"}
