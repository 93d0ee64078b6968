"""Endpoints in the staff UI: health for everyone; tests and recovery for operators; the rest for admins."""

from flask import abort, flash, jsonify, redirect, request
from flask_admin import BaseView, expose
from flask_admin.helpers import get_form_data

from app.admin.base import StaffMixin
from app.admin.common import MAX_GRACE_HOURS, grace_hours, no_store
from app.admin.endpoint_forms import EndpointForm, fill, settings_from
from app.admin.staff_actions import within_retry_cap
from app.auth.access import has_role, require_role, staff_actor
from app.credentials import crypto
from app.credentials.masking import MASK, mask_secret
from app.delivery.endpoints import actions as endpoint_actions
from app.delivery.endpoints import figures, rotation
from app.delivery.endpoints import service as endpoints
from app.errors import HookyardError, InvalidInput
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Role, utcnow
from app.search import parse_moment


class EndpointView(StaffMixin, BaseView):
    def _endpoint(self, endpoint_id):
        try:
            return endpoints.get_endpoint(endpoint_id)
        except HookyardError as exc:
            abort(404, description=exc.message)

    def _manage(self, endpoint_id, **args):
        return redirect(self.get_url(".manage", endpoint_id=endpoint_id, **args))

    @expose("/")
    def index(self):
        return self.render("admin/endpoints.html", endpoints=endpoints.list_endpoints(),
                           figures=figures.last_day_figures(utcnow()), now=utcnow(), can_admin=has_role(Role.ADMIN))

    @expose("/new", methods=("GET", "POST"))
    def create(self):
        require_role(Role.ADMIN)
        form = EndpointForm(get_form_data())
        if request.method == "POST" and form.validate():
            try:
                settings = settings_from(form)
                url, scheme = settings.pop("url"), settings.pop("signing")
                endpoint, secret = endpoints.create_endpoint(url, actor=staff_actor(), signing_scheme=scheme,
                                                             **settings)
            except InvalidInput as exc:
                flash(exc.message, "error")
            else:
                return no_store(self.render("admin/endpoint_secret.html", endpoint=endpoint, secret=secret,
                                             created=True))
        return self.render("admin/endpoint_form.html", form=form, endpoint=None)

    @expose("/<endpoint_id>/edit", methods=("GET", "POST"))
    def edit(self, endpoint_id):
        require_role(Role.ADMIN)
        endpoint = self._endpoint(endpoint_id)
        form = EndpointForm(get_form_data())
        if request.method == "POST" and form.validate():
            try:
                endpoints.update_endpoint(endpoint_id, settings_from(form), actor=staff_actor())
            except InvalidInput as exc:
                db.session.rollback()
                flash(exc.message, "error")
            else:
                flash("Endpoint saved.", "success")
                return self._manage(endpoint_id)
        elif request.method == "GET":
            fill(form, endpoint)
        return self.render("admin/endpoint_form.html", form=form, endpoint=endpoint)

    @expose("/<endpoint_id>")
    def manage(self, endpoint_id):
        endpoint = self._endpoint(endpoint_id)
        return self.render(
            "admin/endpoint.html", endpoint=endpoint, figures=figures.last_day_figures(utcnow()).get(endpoint.id),
            masked_secret=mask_secret(crypto.decrypt(endpoint.secret_encrypted)), now=utcnow(),
            header_names=endpoint.header_names, mask=MASK,
            pending=endpoints.pending_count(endpoint.id), test_id=request.args.get("test"),
            can_admin=has_role(Role.ADMIN), can_operate=has_role(Role.OPERATOR))

    @expose("/<endpoint_id>/test", methods=("POST",))
    def send_test(self, endpoint_id):
        require_role(Role.OPERATOR)
        self._endpoint(endpoint_id)
        delivery = endpoint_actions.send_test_event(endpoint_id, actor=staff_actor())
        return self._manage(endpoint_id, test=delivery.id)

    @expose("/tests/<delivery_id>.json")
    def test_outcome(self, delivery_id):
        delivery = db.session.get(Delivery, delivery_id)
        if delivery is None or delivery.event_type != endpoint_actions.TEST_EVENT:
            abort(404, description="No such test send.")
        attempt = db.session.query(DeliveryAttempt).filter_by(delivery_id=delivery_id).first()
        return jsonify({"status": delivery.status.value, "attempt": None if attempt is None else {
            "response_status": attempt.response_status, "error_class": getattr(attempt.error_class, "value", None),
            "error": attempt.error, "duration_ms": attempt.duration_ms}})

    @expose("/<endpoint_id>/rotate", methods=("POST",))
    def rotate(self, endpoint_id):
        require_role(Role.ADMIN)
        endpoint = self._endpoint(endpoint_id)
        if request.form.get("confirm", "").strip() != "ROTATE":
            flash("Type ROTATE to confirm the rotation; nothing was changed.", "error")
            return self._manage(endpoint_id)
        hours = grace_hours(request.form.get("grace_hours"))
        if hours is None:
            flash(f"Grace period: enter a number of hours from 0 to {MAX_GRACE_HOURS:g}; nothing was changed.",
                  "error")
            return self._manage(endpoint_id)
        endpoint, secret = rotation.rotate_secret(endpoint.id, actor=staff_actor(), grace_seconds=int(hours * 3600))
        return no_store(self.render("admin/endpoint_secret.html", endpoint=endpoint, secret=secret, created=False,
                                     grace_hours=hours))

    @expose("/<endpoint_id>/state", methods=("POST",))
    def change_state(self, endpoint_id):
        require_role(Role.ADMIN)
        self._endpoint(endpoint_id)
        try:
            endpoints.set_state(endpoint_id, request.form.get("state", ""), actor=staff_actor(),
                                reason=request.form.get("reason") or None)
        except InvalidInput as exc:
            flash(exc.message, "error")
        return self._manage(endpoint_id)

    def _since(self, args):
        try:
            return parse_moment(args.get("since") or "", "since")
        except InvalidInput as exc:
            abort(400, description=exc.message)

    @expose("/<endpoint_id>/recover")
    def confirm_recover(self, endpoint_id):
        require_role(Role.OPERATOR)
        endpoint, since = self._endpoint(endpoint_id), self._since(request.args)
        return self.render("admin/endpoint_recover.html", endpoint=endpoint, since=since,
                           count=endpoint_actions.recovery_preview(endpoint_id, since))

    @expose("/<endpoint_id>/recover", methods=("POST",))
    def recover(self, endpoint_id):
        require_role(Role.OPERATOR)
        self._endpoint(endpoint_id)
        since, actor = self._since(request.form), staff_actor()
        if not within_retry_cap(actor):
            return self._manage(endpoint_id)
        job = endpoint_actions.start_recovery(endpoint_id, since, actor=actor)
        return redirect(self.get_url("jobs.job_view", job_id=job.id))

    @expose("/<endpoint_id>/delete", methods=("POST",))
    def delete(self, endpoint_id):
        require_role(Role.ADMIN)
        self._endpoint(endpoint_id)
        try:
            force = bool(request.form.get("force"))
            cancelled = endpoints.delete_endpoint(endpoint_id, actor=staff_actor(), force=force)
        except HookyardError as exc:
            flash(exc.message, "error")
            return self._manage(endpoint_id)
        flash(f"Endpoint deleted{f'; {cancelled} pending deliveries cancelled' if cancelled else ''}.", "success")
        return redirect(self.get_url(".index"))
