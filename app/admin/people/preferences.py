"""A person's own preferences: the language and time zone of the pages; folding the summary banner away."""

from zoneinfo import available_timezones

from flask import redirect, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user

from app.admin.shared.banners import hide_summary
from app.admin.shared.base import StaffView
from app.admin.shared.posting import staff_post
from app.auth.access import local_url, staff_actor
from app.i18n import LANGUAGE_NAMES, browser_locale
from app.models import Role
from app.staff.users import check_locale, set_locale, set_time_zone


def _preferences(view):
    return view.back_to(".index")


def _back(view):
    return redirect(local_url(request.form.get("url"), view.get_url("monitor.index_view")))


class PreferencesView(StaffView):
    """A person's own preferences: the language and time zone of the pages; folding the summary banner away."""

    def is_visible(self):
        return False  # reached from the user menu

    @expose("/")
    def index(self):
        return self.render("admin/people/preferences.html", zones=sorted(available_timezones()),
                           languages=LANGUAGE_NAMES, browser_language=LANGUAGE_NAMES[browser_locale()])

    @expose("/", methods=("POST",))
    @staff_post(Role.VIEWER, done=_preferences)
    def save(self):
        locale = check_locale(request.form.get("locale", current_user.locale))  # refused before anything changes
        set_time_zone(current_user, request.form.get("time_zone"), actor=staff_actor())
        if locale != current_user.locale:
            set_locale(current_user, locale, actor=staff_actor())
            refresh()  # the message below, and the page after it, speak the new language
        return _("Saved: times show in %(zone)s.", zone=current_user.time_zone)

    @expose("/hide-summary", methods=("POST",))
    @staff_post(Role.VIEWER, done=_back)
    def hide_summary(self):
        hide_summary(current_user, staff_actor())
