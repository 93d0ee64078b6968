"""The event catalog in the staff UI: every event type with its description, schema and example, for everyone;
admins add, change and remove them (app.delivery.catalog checks and audits each change). Partners read the same
catalog on the public page, /docs/events."""

import json

from flask import flash, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.admin.shared.base import StaffView
from app.admin.shared.posting import shown_again, staff_post
from app.auth.access import has_role, staff_actor
from app.delivery import catalog
from app.errors import InvalidInput, NotFound
from app.models import Role

#: An empty form: what "Add an event type" starts from.
BLANK = {"name": "", "description": "", "schema": '{\n  "type": "object",\n  "properties": {}\n}', "example": "",
         "deprecated": False}


def _parsed(text, field, required):
    """The JSON typed in a text area, or None when it is empty and may be; raise InvalidInput saying where."""
    if not text.strip():
        if required:
            raise InvalidInput(_l("%(field)s is required", field=field), field=field)
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput(_l("%(field)s is not valid JSON: %(exc)s", field=field, exc=exc), field=field) from None


def _form(row=None):
    """The form's fields: sent, or filled from an event type, or blank."""
    if request.method == "POST":
        return {"name": request.form.get("name", "").strip(), "description": request.form.get("description", ""),
                "schema": request.form.get("schema", ""), "example": request.form.get("example", ""),
                "deprecated": request.form.get("deprecated") == "on"}
    if row is None:
        return dict(BLANK)
    return {"name": row.name, "description": row.description, "schema": json.dumps(row.schema, indent=2),
            "example": json.dumps(row.example, indent=2) if row.example is not None else "",
            "deprecated": row.deprecated}


class CatalogView(StaffView):
    """The event catalog: read by every staff member, edited by admins."""

    def _page(self, form, error=None):
        return self.render("admin/outbound/catalog.html", event_types=catalog.list_event_types(), form=form,
                           error=error, can_admin=has_role(Role.ADMIN)), 422 if error else 200

    @expose("/")
    def index(self):
        edit = request.args.get("edit")
        row = None
        if edit and has_role(Role.ADMIN):
            try:
                row = catalog.get_event_type(edit)
            except NotFound:
                row = None
        return self._page(_form(row))

    @expose("/", methods=("POST",))
    @staff_post(Role.ADMIN, done=lambda view: view.back_to(".index"))
    def save(self):
        """Add or change the event type the form names; a refusal shows the form again, as typed, saying why."""
        return shown_again(self._page, _form(), self._put)

    def _put(self, form):
        row, created = catalog.put_event_type(
            form["name"], description=form["description"], schema=_parsed(form["schema"], "schema", True),
            example=_parsed(form["example"], "example", False), deprecated=form["deprecated"], actor=staff_actor())
        if created:
            return _("Event type %(name)s added to the catalog.", name=row.name)
        return _("Event type %(name)s saved.", name=row.name)

    # The route's argument is not "name": Flask-Admin's _handle_view takes that one.
    @expose("/<type_name>/delete", methods=("POST",))
    @staff_post(Role.ADMIN, done=lambda view, type_name: view.back_to(".index"), refuses=(InvalidInput, NotFound))
    def delete(self, type_name):
        """Remove an event type from the catalog (audited)."""
        catalog.delete_event_type(type_name, actor=staff_actor())
        flash(_("Event type %(name)s removed from the catalog; its messages are no longer checked.", name=type_name),
              "success")
