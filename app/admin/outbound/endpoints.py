"""Endpoints in the staff UI: health for everyone; tests and recovery for operators; the rest for admins."""

from flask import abort, flash, jsonify, request
from flask_admin import expose
from flask_admin.helpers import get_form_data
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.admin.outbound.endpoint_forms import EndpointForm, fill, settings_from
from app.admin.outbound.endpoint_preview import preview_form, run_preview
from app.admin.shared.base import StaffView, found, or_404
from app.admin.shared.common import grace_hours, no_store
from app.admin.shared.posting import needs_role, staff_post, submitted
from app.admin.shared.staff_actions import within_retry_cap
from app.auth.access import has_role, staff_actor
from app.credentials import crypto
from app.credentials.masking import MASK, mask_secret
from app.delivery import catalog
from app.delivery.endpoints import actions as endpoint_actions
from app.delivery.endpoints import figures, rotation
from app.delivery.endpoints import service as endpoints
from app.delivery.failure_reasons import recent_errors
from app.errors import HookyardError, InvalidInput
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, Role, utcnow
from app.portal import links as portal_links
from app.portal.web import link_url
from app.search import parse_moment


def _manage(view, endpoint_id, **ignored):
    return view.back_to(".manage", endpoint_id=endpoint_id)


class EndpointView(StaffView):
    def _endpoint(self, endpoint_id):
        return found(endpoints.get_endpoint, endpoint_id)

    def _form_page(self, form, endpoint=None):
        event_types = catalog.list_event_types()
        families = sorted({t.name.rsplit(".", 1)[0] + ".*" for t in event_types if "." in t.name})
        return self.render("admin/outbound/endpoint_form.html", form=form, endpoint=endpoint, catalog=event_types,
                           families=families)

    @expose("/")
    def index(self):
        return self.render("admin/outbound/endpoints.html", endpoints=endpoints.list_endpoints(),
                           operational=endpoints.list_endpoints(operational=True),
                           figures=figures.last_day_figures(utcnow()), now=utcnow(), can_admin=has_role(Role.ADMIN))

    @expose("/new", methods=("GET", "POST"))
    @needs_role(Role.ADMIN)
    def create(self):
        form = EndpointForm(get_form_data())
        answer = submitted(form, self._create) if request.method == "POST" else None
        return answer or self._form_page(form)

    def _create(self, form):
        settings = settings_from(form)
        url, scheme = settings.pop("url"), settings.pop("signing")
        endpoint, secret = endpoints.create_endpoint(url, actor=staff_actor(), signing_scheme=scheme, **settings)
        return no_store(self.render("admin/outbound/endpoint_secret.html", endpoint=endpoint, secret=secret,
                                     created=True))

    @expose("/<endpoint_id>/edit", methods=("GET", "POST"))
    @needs_role(Role.ADMIN)
    def edit(self, endpoint_id):
        endpoint = self._endpoint(endpoint_id)
        form = EndpointForm(get_form_data())
        if request.method == "GET":
            fill(form, endpoint)
        answer = submitted(form, lambda form: self._save(endpoint_id, form)) if request.method == "POST" else None
        return answer or self._form_page(form, endpoint)

    def _save(self, endpoint_id, form):
        endpoints.update_endpoint(endpoint_id, settings_from(form), actor=staff_actor())
        flash(_("Endpoint saved."), "success")
        return _manage(self, endpoint_id)

    @expose("/<endpoint_id>")
    def manage(self, endpoint_id):
        return self._page(endpoint_id, preview_form(self._endpoint(endpoint_id)))

    @expose("/<endpoint_id>/preview", methods=("POST",))
    def preview(self, endpoint_id):
        """Show the body the endpoint would receive for the event typed in (nothing is sent or written)."""
        self._endpoint(endpoint_id)
        shown = run_preview(endpoint_id, request.form)
        return self._page(endpoint_id, shown), 422 if shown.get("error") else 200

    def _page(self, endpoint_id, preview):
        endpoint = self._endpoint(endpoint_id)
        return self.render(
            "admin/outbound/endpoint.html", endpoint=endpoint, preview=preview,
            figures=figures.last_day_figures(utcnow()).get(endpoint.id),
            masked_secret=mask_secret(crypto.decrypt(endpoint.secret_encrypted)), now=utcnow(),
            header_names=endpoint.header_names, mask=MASK,
            pending=endpoints.pending_count(endpoint.id), recent_errors=recent_errors(endpoint.id),
            test_send=self._test_send(request.args.get("test")),
            can_admin=has_role(Role.ADMIN), can_operate=has_role(Role.OPERATOR),
            portal_links=portal_links.list_links(endpoint.id) if has_role(Role.ADMIN) else [],
            link_live=portal_links.is_live, capabilities=portal_links.CAPABILITIES)

    @expose("/<endpoint_id>/portal-links", methods=("POST",))
    @staff_post(Role.ADMIN, done=_manage)
    def create_portal_link(self, endpoint_id):
        endpoint = self._endpoint(endpoint_id)
        try:
            seconds = round(float(request.form.get("expires_days", "")) * 86400)
        except (ValueError, OverflowError):
            seconds = None
        if seconds is None or not portal_links.MIN_EXPIRES_IN <= seconds <= portal_links.MAX_EXPIRES_IN:
            raise InvalidInput(_l("Valid for: enter a number of days from 0.01 to 90"))
        row, token = portal_links.create_link([endpoint.id], request.form.getlist("capabilities"), seconds,
                                              actor=staff_actor())
        return no_store(self.render("admin/outbound/portal_link.html", endpoint=endpoint, link=row,
                                    url=link_url(token)))

    @expose("/<endpoint_id>/portal-links/<link_id>/revoke", methods=("POST",))
    @staff_post(Role.ADMIN, done=_manage, refuses=HookyardError)
    def revoke_portal_link(self, endpoint_id, link_id):
        self._endpoint(endpoint_id)
        if endpoint_id not in portal_links.get_link(link_id).endpoint_ids:
            abort(404)
        portal_links.revoke_link(link_id, actor=staff_actor())
        return _("Portal link revoked: its sessions ended at once.")

    @expose("/<endpoint_id>/test", methods=("POST",))
    @staff_post(Role.OPERATOR, done=_manage)
    def send_test(self, endpoint_id):
        self._endpoint(endpoint_id)
        delivery = endpoint_actions.send_test_event(endpoint_id, actor=staff_actor())
        return self.back_to(".manage", endpoint_id=endpoint_id, test=delivery.id)

    def _test_send(self, delivery_id):
        """(delivery, its attempt or None) of a test send, or None when delivery_id names none."""
        delivery = db.session.get(Delivery, delivery_id) if delivery_id else None
        if delivery is None or delivery.event_type != endpoint_actions.TEST_EVENT:
            return None
        return delivery, db.session.query(DeliveryAttempt).filter_by(delivery_id=delivery_id).first()

    @expose("/tests/<delivery_id>/outcome")
    def test_outcome_fragment(self, delivery_id):
        """A test send's outcome (a fragment the endpoint page polls until the attempt is recorded)."""
        test_send = or_404(self._test_send(delivery_id), _("No such test send."))
        return self.render("admin/outbound/endpoint_test_outcome.html", test_send=test_send)

    @expose("/tests/<delivery_id>.json")
    def test_outcome(self, delivery_id):
        """A test send's outcome as JSON, for scripts."""
        delivery, attempt = or_404(self._test_send(delivery_id), _("No such test send."))
        return jsonify({"status": delivery.status.value, "attempt": None if attempt is None else {
            "response_status": attempt.response_status, "error_class": getattr(attempt.error_class, "value", None),
            "error": attempt.error, "duration_ms": attempt.duration_ms}})

    @expose("/<endpoint_id>/rotate", methods=("POST",))
    @staff_post(Role.ADMIN, done=_manage)
    def rotate(self, endpoint_id):
        endpoint = self._endpoint(endpoint_id)
        if request.form.get("confirm", "").strip() != "ROTATE":
            raise InvalidInput(_l("Type ROTATE to confirm the rotation"))
        hours = grace_hours(request.form.get("grace_hours"))
        endpoint, secret = rotation.rotate_secret(endpoint.id, actor=staff_actor(), grace_seconds=int(hours * 3600))
        return no_store(self.render("admin/outbound/endpoint_secret.html", endpoint=endpoint, secret=secret,
                                     created=False, grace_hours=hours))

    @expose("/<endpoint_id>/state", methods=("POST",))
    @staff_post(Role.ADMIN, done=_manage)
    def change_state(self, endpoint_id):
        self._endpoint(endpoint_id)
        endpoints.set_state(endpoint_id, request.form.get("state", ""), actor=staff_actor(),
                            reason=request.form.get("reason") or None)

    def _since(self, args):
        try:
            return parse_moment(args.get("since") or "", "since")
        except InvalidInput as exc:
            abort(400, description=exc.localized)

    @expose("/<endpoint_id>/recover")
    @needs_role(Role.OPERATOR)
    def confirm_recover(self, endpoint_id):
        endpoint, since = self._endpoint(endpoint_id), self._since(request.args)
        return self.render("admin/outbound/endpoint_recover.html", endpoint=endpoint, since=since,
                           count=endpoint_actions.recovery_preview(endpoint_id, since))

    @expose("/<endpoint_id>/recover", methods=("POST",))
    @staff_post(Role.OPERATOR, done=_manage)
    def recover(self, endpoint_id):
        self._endpoint(endpoint_id)
        since, actor = self._since(request.form), staff_actor()
        if not within_retry_cap(actor):
            return None
        job = endpoint_actions.start_recovery(endpoint_id, since, actor=actor)
        return self.back_to("jobs.job_view", job_id=job.id)

    @expose("/<endpoint_id>/delete", methods=("POST",))
    @staff_post(Role.ADMIN, done=_manage, refuses=HookyardError)
    def delete(self, endpoint_id):
        self._endpoint(endpoint_id)
        cancelled = endpoints.delete_endpoint(endpoint_id, actor=staff_actor(), force=bool(request.form.get("force")))
        flash(_("Endpoint deleted; %(count)s pending deliveries cancelled.", count=cancelled) if cancelled
              else _("Endpoint deleted."), "success")
        return self.back_to(".index")
