"""Reference links (admins): URL templates that turn references and handles on the monitor, View log, message and
inbound pages into links to where staff act on them; each change is checked and audited by app.staff.reference_links."""

from flask import request
from flask_admin import expose
from flask_babel import gettext as _

from app.admin.shared.base import StaffView
from app.admin.shared.posting import shown_again, staff_post
from app.auth.access import staff_actor
from app.errors import InvalidInput, NotFound
from app.models import Role
from app.staff import reference_links

#: The form's fields, in order.
FIELDS = ("name", "event_type_pattern", "value_pattern", "url_template")


class ReferenceLinkView(StaffView):
    """Reference links: listed, added and removed by admins."""

    required_role = Role.ADMIN

    def _page(self, form, error=None):
        return self.render("admin/people/reference_links.html", links=reference_links.list_reference_links(),
                           form=form, error=error), 422 if error else 200

    @expose("/")
    def index(self):
        return self._page(dict.fromkeys(FIELDS, ""))

    @expose("/", methods=("POST",))
    @staff_post(Role.ADMIN, done=lambda view: view.back_to(".index"))
    def add(self):
        """Add a reference link; a bad one shows the form again, as typed, saying why."""
        return shown_again(self._page, {name: request.form.get(name, "") for name in FIELDS}, self._add)

    def _add(self, form):
        row = reference_links.add_reference_link(form["name"], url_template=form["url_template"],
                                                 event_type_pattern=form["event_type_pattern"],
                                                 value_pattern=form["value_pattern"], actor=staff_actor())
        return _("Reference link %(name)s added.", name=row.name)

    @expose("/<link_id>/delete", methods=("POST",))
    @staff_post(Role.ADMIN, done=lambda view, link_id: view.back_to(".index"), refuses=(InvalidInput, NotFound))
    def delete(self, link_id):
        """Remove a reference link (audited)."""
        reference_links.delete_reference_link(link_id, actor=staff_actor())
        return _("Reference link removed.")
