"""Admin-only views: staff users and settings. Changes go through app.staff services, which audit them."""

from flask import flash, redirect, request
from flask_admin import BaseView, expose
from flask_admin.helpers import get_form_data
from wtforms import BooleanField, EmailField, Form, PasswordField, SelectField
from wtforms.validators import DataRequired, Optional

from app.admin import formatters as fmt
from app.admin.base import StaffMixin, StaffModelView
from app.auth.access import staff_actor
from app.errors import InvalidInput
from app.models import Role
from app.staff.settings import list_settings, set_setting
from app.staff.users import create_user, update_user

ROLE_CHOICES = [r.value for r in Role]


class UserCreateForm(Form):
    email = EmailField("Email", validators=[DataRequired()])
    role = SelectField("Role", choices=ROLE_CHOICES, default="viewer")
    password = PasswordField("Password", validators=[Optional()],
                             description="Leave empty to generate a one-time password shown once.")


class UserEditForm(Form):
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active")


class UserView(StaffModelView):
    required_role = Role.ADMIN
    can_create = can_edit = True
    column_list = ("email", "role", "active", "must_change_password", "last_login_at", "created_at")
    column_default_sort = ("email", False)
    column_formatters = {
        "role": lambda v, c, m, n: m.role.value,
        "last_login_at": fmt.field("last_login_at", fmt.time_cell),
        "created_at": fmt.field("created_at", fmt.time_cell),
    }

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
            flash(f"One-time password for {user.email}: {generated} (shown once; they choose their own at "
                  "first sign-in)", "success")
        return user

    def update_model(self, form, model):
        try:
            update_user(model.id, role=form.role.data, active=form.active.data, actor=staff_actor())
        except InvalidInput as exc:
            flash(exc.message, "error")
            return False
        return True


class SettingsView(StaffMixin, BaseView):
    required_role = Role.ADMIN

    @expose("/", methods=("GET", "POST"))
    def index(self):
        if request.method == "POST":
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
            if not errors:
                flash("Settings saved.", "success")
            return redirect(self.get_url(".index"))
        return self.render("admin/settings.html", settings=list_settings())
