"""A person's own preferences: the time zone pages show times in; folding the summary banner away."""

from zoneinfo import available_timezones

from flask import redirect, request
from flask_admin import expose
from flask_login import current_user

from app.admin.shared.banners import hide_summary
from app.admin.shared.base import StaffView
from app.admin.shared.posting import staff_post
from app.auth.access import local_url, staff_actor
from app.models import Role
from app.staff.users import set_time_zone


def _preferences(view):
    return view.back_to(".index")


def _back(view):
    return redirect(local_url(request.form.get("url"), view.get_url("monitor.index_view")))


class PreferencesView(StaffView):
    """A person's own preferences: the time zone pages show times in; folding the summary banner away."""

    def is_visible(self):
        return False  # reached from the user menu

    @expose("/")
    def index(self):
        return self.render("admin/people/preferences.html", zones=sorted(available_timezones()))

    @expose("/", methods=("POST",))
    @staff_post(Role.VIEWER, done=_preferences)
    def save(self):
        set_time_zone(current_user, request.form.get("time_zone"), actor=staff_actor())
        return f"Times now show in {current_user.time_zone}."

    @expose("/hide-summary", methods=("POST",))
    @staff_post(Role.VIEWER, done=_back)
    def hide_summary(self):
        hide_summary(current_user, staff_actor())
