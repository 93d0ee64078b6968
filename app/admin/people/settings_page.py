"""The Settings page (admins): the settings kept in the database (monitor, delivery, alerts, retention, the shop's
name), each with its default; the shop's logo; a test alert. Every change goes through app.staff.settings or
app.staff.branding, which check and audit it; a refused change answers 400 and changes nothing."""

from flask import flash, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import ngettext

from app.admin.shared.base import StaffView
from app.admin.shared.posting import staff_post
from app.alerts import email_unconfigured, send_test_alert
from app.auth.access import staff_actor
from app.errors import InvalidInput
from app.models import Role
from app.staff import branding
from app.staff.settings import SECTION_TITLES, SettingsRefused, list_settings, set_settings


def _settings_page(view):
    return view.back_to(".index")


class SettingsView(StaffView):
    """The settings admins change, each with its default; the shop's logo; a test alert."""

    required_role = Role.ADMIN

    def _page(self, errors=None, typed=None, logo_error=None):
        """The page; with errors ({key: why}) or a logo_error, a 400 showing what was typed and why it was refused."""
        settings = list_settings()
        sections = {}
        for entry in settings:
            sections.setdefault(entry[0].section, []).append(entry)
        body = self.render("admin/people/settings.html", sections=sections, section_titles=SECTION_TITLES,
                           errors=errors or {}, typed=typed or {},
                           logo_error=logo_error, logo=branding.logo_details(),
                           logo_max_kb=branding.LOGO_MAX_BYTES // 1024,
                           smtp_missing=email_unconfigured())
        return body, 400 if errors or logo_error else 200

    @expose("/")
    def index(self):
        return self._page()

    @expose("/", methods=("POST",))
    @staff_post(Role.ADMIN, done=_settings_page)
    def save(self):
        """Save every changed setting, or none: one refused value shows the form again, as typed, saying why."""
        changed = {}
        for definition, current, *_rest in list_settings():
            raw = request.form.get(definition.key)
            if raw is not None and str(raw).strip() != definition.display(current):
                changed[definition.key] = raw
        if not changed:
            return _("Nothing changed.")
        try:
            set_settings(changed, actor=staff_actor())
        except SettingsRefused as exc:
            flash(ngettext("%(num)d setting refused; nothing was saved.",
                           "%(num)d settings refused; nothing was saved.", len(exc.errors)), "error")
            return self._page(errors=exc.localized_errors, typed=dict(request.form))
        return _("Settings saved.")

    @expose("/test-alert", methods=("POST",))
    @staff_post(Role.ADMIN, done=_settings_page)
    def test_alert(self):
        """Send a test alert on each configured channel; say what each did (audited)."""
        for channel, ok, detail in send_test_alert(staff_actor()):
            name = {"webhook": _("Notification URL"), "email": _("Email"), "none": _("Test alert")}[channel]
            if ok:
                flash(_("%(channel)s: sent, %(detail)s.", channel=name, detail=str(detail)), "success")
            else:
                flash(_("%(channel)s: not sent: %(detail)s.", channel=name, detail=str(detail)), "error")
        return None

    @expose("/logo", methods=("POST",))
    @staff_post(Role.ADMIN, done=_settings_page)
    def upload_logo(self):
        """Store the uploaded logo; a file that is not a small PNG, JPEG or WebP image answers 400, nothing saved."""
        upload = request.files.get("logo")
        data = upload.read(branding.LOGO_MAX_BYTES + 1) if upload else b""
        try:
            branding.set_logo(data, actor=staff_actor())
        except InvalidInput as exc:
            return self._page(logo_error=exc.localized)
        return _("Logo uploaded: the partner portal shows it now.")

    @expose("/logo/remove", methods=("POST",))
    @staff_post(Role.ADMIN, done=_settings_page)
    def remove_logo(self):
        """Remove the logo (audited): the portal's header shows the name alone again."""
        branding.remove_logo(actor=staff_actor())
        return _("Logo removed.")
