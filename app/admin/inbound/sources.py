"""Inbound sources in the staff UI: everyone reads them (state, 24 h counters, the URL to paste, rejected samples);
admins create them, rotate their secret, pause, resume or disable them and switch forwarding.

Every change goes through app.inbound.sources, which validates, audits and commits; a form that cannot be read
changes nothing and says why."""

from flask import current_app, flash, request
from flask_admin import expose
from flask_admin.helpers import get_form_data
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.admin.inbound.source_forms import (
    SettingsForm,
    SourceForm,
    create_arguments,
    fill,
    settings_changes,
    typed_secret,
)
from app.admin.shared.base import StaffView, found
from app.admin.shared.common import MAX_GRACE_HOURS, grace_hours, no_store
from app.admin.shared.formatters import status_label
from app.admin.shared.posting import needs_role, staff_post, submitted
from app.auth.access import has_role, staff_actor
from app.credentials import crypto
from app.credentials.masking import mask_secret
from app.errors import InvalidInput
from app.inbound import counts, queries
from app.inbound import sources as service
from app.models import Role, utcnow


def receiving_url(source):
    """The absolute URL to paste into the provider: PUBLIC_URL when set, else this request's host."""
    base = current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
    return f"{base}{source.url_path}"


def _manage(view, source_id):
    return view.back_to(".manage", source_id=source_id)


class InboundSourceView(StaffView):
    """Sources of inbound webhooks: list and details for staff, changes for admins."""

    def _source(self, source_id):
        return found(service.get_source, source_id)

    @expose("/")
    def index(self):
        sources = service.list_sources()
        return self.render("admin/inbound/sources.html", sources=sources,
                           urls={s.id: receiving_url(s) for s in sources},
                           figures=counts.source_figures([s.name for s in sources], utcnow()),
                           can_admin=has_role(Role.ADMIN))

    @expose("/new", methods=("GET", "POST"))
    @needs_role(Role.ADMIN)
    def create(self):
        form = SourceForm(get_form_data())
        if request.method == "GET":
            return self.render("admin/inbound/source_form.html", form=form)
        return submitted(form, self._create) or (self.render("admin/inbound/source_form.html", form=form), 422)

    def _create(self, form):
        source, shown = service.create_source(**create_arguments(form), actor=staff_actor())
        if shown:
            return no_store(self.render("admin/inbound/source_secret.html", source=source, secret=shown,
                                         url=receiving_url(source), created=True))
        flash(_("Source %(name)s created with the secret you typed; it is kept encrypted and never shown.",
                name=source.name),
              "success")
        return _manage(self, source.id)

    @expose("/<source_id>")
    def manage(self, source_id):
        source = self._source(source_id)
        settings = SettingsForm()
        fill(settings, source)
        return self.render(
            "admin/inbound/source.html", source=source, url=receiving_url(source), settings=settings,
            figures=counts.source_figures([source.name], utcnow())[source.name],
            masked_secret=mask_secret(crypto.decrypt(source.secret_encrypted)),
            rejections=queries.recent_rejections(source), can_admin=has_role(Role.ADMIN),
            max_grace_hours=MAX_GRACE_HOURS)

    @expose("/<source_id>/settings", methods=("POST",))
    @staff_post(Role.ADMIN, done=_manage)
    def change_settings(self, source_id):
        source = self._source(source_id)
        form = SettingsForm(get_form_data())
        if not form.validate():
            raise InvalidInput(_l("tolerance: enter a whole number of seconds from 1 to 86400"),
                               field="tolerance_seconds")
        service.update_source(source, settings_changes(form, source), actor=staff_actor())
        return _("Settings saved.")

    @expose("/<source_id>/forward", methods=("POST",))
    @staff_post(Role.ADMIN, done=_manage)
    def change_forward(self, source_id):
        source = self._source(source_id)
        wanted = request.form.get("forward")
        if wanted not in ("on", "off"):
            raise InvalidInput(_l("Forwarding must be turned on or off"))
        service.update_source(source, {"forward": wanted == "on"}, actor=staff_actor())
        return _("Forwarding turned on.") if wanted == "on" else _("Forwarding turned off.")

    @expose("/<source_id>/state", methods=("POST",))
    @staff_post(Role.ADMIN, done=_manage)
    def change_state(self, source_id):
        source = self._source(source_id)
        service.set_source_state(source, request.form.get("state", ""), request.form.get("reason") or None,
                                 actor=staff_actor())
        return _("Source %(name)s is %(state)s.", name=source.name, state=status_label(source.state))

    @expose("/<source_id>/rotate", methods=("POST",))
    @staff_post(Role.ADMIN, done=_manage)
    def rotate(self, source_id):
        source = self._source(source_id)
        hours = grace_hours(request.form.get("grace_hours"))
        typed = typed_secret(request.form.get("new_secret"), request.form.get("new_secret_again"))
        secret = service.rotate_source_secret(source, new_secret=typed, grace_seconds=int(hours * 3600),
                                              actor=staff_actor())
        if typed is None:
            return no_store(self.render("admin/inbound/source_secret.html", source=source, secret=secret,
                                         url=receiving_url(source), created=False, grace_hours=hours))
        return _("Secret replaced by the one you typed; the old one verifies for %(hours)s h more.", hours=f"{hours:g}")
