"""API keys in the staff UI (admins): every key with its scopes and last use, never the key; create one (shown once,
on the answer to its POST) and revoke one, each an audited POST."""

from flask import flash, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.admin.shared.base import StaffView, found
from app.admin.shared.common import no_store
from app.admin.shared.posting import needs_role
from app.auth.access import staff_actor
from app.auth.api_keys import SCOPE_DESCRIPTIONS, SCOPES, create_api_key, list_api_keys, revoke_api_key
from app.errors import InvalidInput
from app.extensions import db
from app.models import Role

#: The form's choice between a key allowed everything (now and later) and one allowed the scopes ticked.
ACCESS_CHOICES = ("some", "all")


def _scopes_asked(form):
    """The scopes the form asks for: None for every scope, else the ticked ones; InvalidInput for anything else."""
    access = form.get("access", "some")
    if access not in ACCESS_CHOICES:
        raise InvalidInput(_l("Access: choose every scope or the scopes ticked"), field="access")
    if access == "all":
        return None
    ticked = form.getlist("scopes")
    if not ticked:
        raise InvalidInput(_l("Scopes: tick at least one scope, or choose every scope"), field="scopes")
    return ticked


class ApiKeyView(StaffView):
    """The producer API keys: listed, created (the key shown once) and revoked."""

    required_role = Role.ADMIN

    def _page(self, form=None, error=None):
        form = form or {"name": "", "access": "some", "scopes": []}
        body = self.render("admin/people/api_keys.html", keys=list_api_keys(), form=form, error=error,
                           scopes=SCOPE_DESCRIPTIONS, access_choices=ACCESS_CHOICES)
        return body, 400 if error else 200

    @expose("/")
    def index(self):
        """List every key, newest first, under the form that creates one."""
        return self._page()

    @expose("/", methods=("POST",))
    @needs_role(Role.ADMIN)
    def create(self):
        """Create a key (audited) and show it once, on this answer only: never in a flash, a log or the audit log.
        A bad name or scope answers 400 with the form as typed, and creates nothing."""
        form = {"name": request.form.get("name", ""), "access": request.form.get("access", "some"),
                "scopes": request.form.getlist("scopes")}
        try:
            row, key = create_api_key(form["name"], _scopes_asked(request.form), actor=staff_actor())
        except InvalidInput as exc:
            db.session.rollback()
            return self._page(form, error=exc.localized)
        return no_store(self.render("admin/people/api_key_created.html", key_row=row, key=key, all_scopes=SCOPES))

    @expose("/<key_id>/revoke", methods=("POST",))
    def revoke(self, key_id):
        """Revoke a key at once (audited)."""
        row = found(lambda: revoke_api_key(key_id, actor=staff_actor()))
        flash(_("API key %(name)s (%(prefix)s…) is revoked; requests with it are refused.", name=row.name,
                prefix=row.prefix),
              "success")
        return self.back_to(".index")
