"""Send an event by hand (admins): choose an event type and endpoints, give a payload or a list of references of
earlier messages, preview exactly what will go out, then send. Audited as one action."""

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from sqlalchemy import select

from app.admin.shared.base import StaffView
from app.admin.shared.posting import shown_again
from app.auth.access import staff_actor
from app.delivery import matching
from app.delivery.operations.resend import parse_payload, plan_send, send_planned
from app.delivery.queries import known_event_types
from app.errors import HookyardError
from app.extensions import db
from app.models import Endpoint, EndpointState, Role


def _endpoints():
    return db.session.scalars(select(Endpoint).where(
        Endpoint.deleted_at.is_(None), Endpoint.state != EndpointState.DISABLED).order_by(Endpoint.name)).all()


def _form():
    """The submitted form as the template shows it again."""
    return {"event_type": request.form.get("event_type", "").strip(), "payload": request.form.get("payload", ""),
            "references": request.form.get("references", ""), "endpoint_ids": request.form.getlist("endpoint_ids")}


def _plan(form):
    """Plan from the form; raises InvalidInput (bad JSON, no endpoint, nothing to send)."""
    matching.check_event_type(form["event_type"])
    payload = parse_payload(form["payload"]) if form["payload"].strip() else None
    return plan_send(form["event_type"], form["endpoint_ids"], payload=payload,
                     references=form["references"].splitlines())


class SendEventView(StaffView):
    """The manual trigger of seed 003, for admins."""

    required_role = Role.ADMIN

    def _page(self, form, plan=None, error=None):
        endpoints = _endpoints()
        receiving = {e.id for e in endpoints if matching.matches(e.event_types, form["event_type"])}
        return self.render("admin/outbound/send_event.html", form=form, plan=plan, error=error, endpoints=endpoints,
                           receiving=receiving, event_types=known_event_types()), 422 if error else 200

    @expose("/")
    def index(self):
        return self._page({"event_type": "", "payload": "", "references": "", "endpoint_ids": []})

    def _from_form(self, act):
        """act(form) on the sent form; a refusal (bad JSON, no endpoint, nothing to send) shows the form again
        saying why, nothing sent."""
        return shown_again(self._page, _form(), act, refuses=HookyardError)

    @expose("/preview", methods=("POST",))
    def preview(self):
        return self._from_form(lambda form: self._page(form, plan=_plan(form)))

    @expose("/send", methods=("POST",))
    def send(self):
        return self._from_form(self._send)

    def _send(self, form):
        sent = send_planned(_plan(form), actor=staff_actor())
        deliveries = sum(len(m.deliveries) for m in sent)
        flash(_("Sent %(count)s %(type)s message(s): %(deliveries)s deliveries.", count=len(sent),
                type=form["event_type"], deliveries=deliveries), "success")
        return redirect(url_for("monitor.index_view", event_type=form["event_type"]))
