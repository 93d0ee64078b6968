"""View log (one delivery: payload, every attempt, request and response) and "edit payload and resend"."""

import json

from flask import Response, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext as _
from sqlalchemy import select

from app.admin.shared.base import or_404
from app.admin.shared.posting import needs_role
from app.admin.shared.staff_actions import within_retry_cap
from app.auth.access import has_role, local_url, staff_actor
from app.delivery.failure_reasons import last_reasons
from app.delivery.operations.resend import parse_payload, resend_delivery
from app.errors import HookyardError
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Role, utcnow
from app.staff.retry_cap import retry_allowance
from app.staff.settings import get_setting


def pretty(payload_text):
    """A stored JSON body, indented for people."""
    return json.dumps(json.loads(payload_text), indent=2, ensure_ascii=False)


class DeliveryLogMixin:
    """The View log and resend pages of the DeliveryView (a mixin so the view module stays one concern)."""

    def _delivery(self, delivery_id):
        return or_404(db.session.get(Delivery, delivery_id), _("No delivery with id %(id)s.", id=delivery_id))

    @expose("/log/<delivery_id>")
    def log_view(self, delivery_id):
        delivery = self._delivery(delivery_id)
        attempts = db.session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
                                      .order_by(DeliveryAttempt.number.desc())).all()
        operate = has_role(Role.OPERATOR)
        return self.render("admin/outbound/delivery_log.html", delivery=delivery, attempts=attempts,
                           payload=pretty(delivery.message.payload), message=delivery.message, can_operate=operate,
                           reason=last_reasons([delivery_id]).get(delivery_id),
                           allowance=retry_allowance(staff_actor()) if operate else None, now=utcnow(),
                           cooldown_seconds=get_setting("retry_cooldown_seconds"),
                           return_url=local_url(request.args.get("url"), self.get_url(".index_view")))

    @expose("/log/<delivery_id>/payload.json")
    def payload_download(self, delivery_id):
        message = self._delivery(delivery_id).message
        return Response(message.payload, mimetype="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{message.id}.json"'})

    @expose("/log/<delivery_id>/resend", methods=("GET", "POST"))
    @needs_role(Role.OPERATOR)
    def resend_view(self, delivery_id):
        """Edit the payload in an editor (JSON checked as typed and again here) and send it as a new message."""
        delivery = self._delivery(delivery_id)
        text, error = pretty(delivery.message.payload), None
        if request.method == "POST":
            text = request.form.get("payload", "")
            if within_retry_cap(staff_actor()):
                try:
                    message = resend_delivery(delivery_id, parse_payload(text), actor=staff_actor())
                except HookyardError as exc:
                    error = exc.localized
                else:
                    flash(_("Sent the edited payload as new message %(id)s, linked to the original.", id=message.id),
                          "success")
                    return redirect(self.get_url(".log_view", delivery_id=message.deliveries[0].id))
        return self.render("admin/outbound/delivery_resend.html", delivery=delivery, text=text, error=error,
                           allowance=retry_allowance(staff_actor())), 422 if error else 200
