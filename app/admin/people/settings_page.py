"""The Settings page (admins): the settings kept in the database (cooldown, hourly cap, refresh, retention), each
with its default; every change goes through app.staff.settings, which checks and audits it."""

from flask import flash, request
from flask_admin import expose

from app.admin.shared.base import StaffView
from app.admin.shared.posting import staff_post
from app.auth.access import staff_actor
from app.errors import InvalidInput
from app.models import Role
from app.staff.settings import list_settings, set_setting


def _settings_page(view):
    return view.back_to(".index")


class SettingsView(StaffView):
    """The settings admins change (cooldown, hourly cap, refresh), each with its default."""

    required_role = Role.ADMIN

    @expose("/")
    def index(self):
        return self.render("admin/people/settings.html", settings=list_settings())

    @expose("/", methods=("POST",))
    @staff_post(Role.ADMIN, done=_settings_page)
    def save(self):
        """Save each changed setting; one that is refused is said, the others are still saved."""
        errors = []
        for definition, current, _, _ in list_settings():
            raw = request.form.get(definition.key)
            if raw is None or str(raw).strip() == definition.display(current):
                continue
            try:
                set_setting(definition.key, raw, actor=staff_actor())
            except InvalidInput as exc:
                errors.append(exc.message)
        for error in errors:
            flash(error, "error")
        return None if errors else "Settings saved."
