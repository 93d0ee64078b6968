"""API keys in the staff UI (admins): every key with its scopes and last use, never the key; revoke in one POST."""

from flask import flash
from flask_admin import expose
from flask_babel import gettext as _

from app.admin.shared.base import StaffView, found
from app.auth.access import staff_actor
from app.auth.api_keys import list_api_keys, revoke_api_key
from app.models import Role


class ApiKeyView(StaffView):
    """The producer API keys. A BaseView: a key is created from the command line (it is shown once), so this
    page only lists and revokes."""

    required_role = Role.ADMIN

    @expose("/")
    def index(self):
        """List every key, newest first."""
        return self.render("admin/people/api_keys.html", keys=list_api_keys())

    @expose("/<key_id>/revoke", methods=("POST",))
    def revoke(self, key_id):
        """Revoke a key at once (audited)."""
        row = found(lambda: revoke_api_key(key_id, actor=staff_actor()))
        flash(_("API key %(name)s (%(prefix)s…) is revoked; requests with it are refused.", name=row.name,
                prefix=row.prefix),
              "success")
        return self.back_to(".index")
