"""Admin-only views: staff users and settings. Changes go through app.staff services, which audit them."""

from zoneinfo import available_timezones

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.helpers import get_form_data
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from wtforms import BooleanField, EmailField, Form, PasswordField, SelectField
from wtforms.validators import DataRequired, Optional

from app.admin import formatters as fmt
from app.admin.banners import hide_summary
from app.admin.base import StaffModelView, StaffView
from app.admin.posting import staff_post
from app.auth.access import local_url, staff_actor
from app.errors import HookyardError, InvalidInput
from app.models import Role, utcnow
from app.staff.limits import lift_retry_cap
from app.staff.settings import list_settings, set_setting
from app.staff.users import create_user, set_time_zone, update_user

ROLE_CHOICES = [r.value for r in Role]


class UserCreateForm(Form):
    email = EmailField("Email", validators=[DataRequired()])
    role = SelectField("Role", choices=ROLE_CHOICES, default="viewer")
    password = PasswordField("Password", validators=[Optional()],
                             description="Leave empty to generate a one-time password shown once.")


class UserEditForm(Form):
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active")


def _cap_cell(view, context, user, name):
    """The person's retry cap: lifted until when, and a form to lift it for the incident (or restore it)."""
    lifted = user.retry_cap_lifted_until
    lifted = lifted if lifted and lifted > utcnow() else None
    state = Markup("lifted until {}").format(fmt.time_cell(lifted)) if lifted else Markup("normal")
    return Markup(
        '<span data-cap="{}">{}</span> <form method="post" action="{}" class="form-inline d-inline-flex">'
        '<input type="hidden" name="csrf_token" value="{}"><label class="visually-hidden" for="hours-{}">Hours</label>'
        '<input class="form-control form-control-sm w-5rem mr-1" type="number" min="0" max="24" step="1" id="hours-{}" '
        'name="hours" value="{}"><button class="btn btn-sm btn-outline-secondary" type="submit" data-action="lift-cap">'
        '{}</button></form>').format(
        "lifted" if lifted else "normal", state, view.get_url(".lift_cap", user_id=user.id), generate_csrf(),
        user.id, user.id, 0 if lifted else 4, "Restore cap" if lifted else "Lift for hours")


class UserView(StaffModelView):
    """Staff accounts (admins only): roles, sign-in state, and lifting a person's retry cap for an incident."""

    required_role = Role.ADMIN
    can_create = can_edit = True
    column_list = ("email", "role", "active", "must_change_password", "last_login_at", "created_at",
                   "retry_cap_lifted_until")
    column_labels = {"must_change_password": "Must change password", "last_login_at": "Last sign-in",
                     "created_at": "Created", "retry_cap_lifted_until": "Hourly retry cap"}
    column_default_sort = ("email", False)
    column_formatters = {
        "role": lambda v, c, m, n: m.role.value,
        "last_login_at": fmt.field("last_login_at", fmt.time_cell),
        "created_at": fmt.field("created_at", fmt.time_cell),
        "retry_cap_lifted_until": _cap_cell,
    }

    @expose("/lift-cap/<int:user_id>", methods=("POST",))
    @staff_post(Role.ADMIN, done=lambda self, user_id: self.back_to(".index_view"), refuses=HookyardError)
    def lift_cap(self, user_id):
        user = lift_retry_cap(user_id, request.form.get("hours"), actor=staff_actor())
        lifted = user.retry_cap_lifted_until
        return f"Retry cap of {user.email} " + (f"lifted until {lifted:%H:%M} UTC." if lifted else "restored.")

    def create_form(self, obj=None):
        return UserCreateForm(get_form_data(), obj=obj)

    def edit_form(self, obj=None):
        form = UserEditForm(get_form_data(), obj=obj)
        if obj is not None and request.method == "GET":
            form.role.data = obj.role.value
        return form

    def create_model(self, form):
        try:
            user, generated = create_user(form.email.data, form.role.data, form.password.data or None,
                                          actor=staff_actor())
        except InvalidInput as exc:
            flash(exc.message, "error")
            return False
        if generated:
            flash(Markup('One-time password for {}: <code id="one-time-password">{}</code> '
                         '<button type="button" class="btn btn-sm btn-outline-secondary" data-copy="one-time-password">'
                         'Copy</button> (shown once; they choose their own at first sign-in)').format(user.email,
                                                                                                   generated),
                  "success")
        return user

    def update_model(self, form, model):
        try:
            update_user(model.id, role=form.role.data, active=form.active.data, actor=staff_actor())
        except InvalidInput as exc:
            flash(exc.message, "error")
            return False
        return True


def _settings_page(view):
    return view.back_to(".index")


class SettingsView(StaffView):
    """The settings admins change (cooldown, hourly cap, refresh), each with its default."""

    required_role = Role.ADMIN

    @expose("/")
    def index(self):
        return self.render("admin/settings.html", settings=list_settings())

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


def _back(view):
    return redirect(local_url(request.form.get("url"), view.get_url("monitor.index_view")))


class PreferencesView(StaffView):
    """A person's own preferences: the time zone pages show times in; folding the summary banner away."""

    def is_visible(self):
        return False  # reached from the user menu

    @expose("/")
    def index(self):
        return self.render("admin/preferences.html", zones=sorted(available_timezones()))

    @expose("/", methods=("POST",))
    @staff_post(Role.VIEWER, done=_settings_page)
    def save(self):
        set_time_zone(current_user, request.form.get("time_zone"), actor=staff_actor())
        return f"Times now show in {current_user.time_zone}."

    @expose("/hide-summary", methods=("POST",))
    @staff_post(Role.VIEWER, done=_back)
    def hide_summary(self):
        hide_summary(current_user, staff_actor())
