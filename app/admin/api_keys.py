"""API keys in the staff UI (admins): every key with its scopes and last use, never the key; revoke in one POST."""

from flask import abort, flash, redirect
from flask_admin import BaseView, expose

from app.admin.base import StaffMixin
from app.auth.access import staff_actor
from app.auth.api_keys import list_api_keys, revoke_api_key
from app.errors import NotFound
from app.models import Role


class ApiKeyView(StaffMixin, BaseView):
    """The producer API keys. A BaseView: a key is created from the command line (it is shown once), so this
    page only lists and revokes."""

    required_role = Role.ADMIN

    @expose("/")
    def index(self):
        """List every key, newest first."""
        return self.render("admin/api_keys.html", keys=list_api_keys())

    @expose("/<key_id>/revoke", methods=("POST",))
    def revoke(self, key_id):
        """Revoke a key at once (audited)."""
        try:
            row = revoke_api_key(key_id, actor=staff_actor())
        except NotFound as exc:
            abort(404, description=exc.message)
        flash(f"API key {row.name} ({row.prefix}…) is revoked; requests with it are refused.", "success")
        return redirect(self.get_url(".index"))
