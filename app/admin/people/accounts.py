"""Staff accounts (admins): who may sign in with which role, and lifting a person's retry cap for an incident.
Changes go through app.staff services, which audit them."""

from flask import flash, request
from flask_admin import expose
from flask_admin.helpers import get_form_data
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from wtforms import BooleanField, EmailField, Form, PasswordField, SelectField
from wtforms.validators import DataRequired, Optional

from app.admin.shared import formatters as fmt
from app.admin.shared.base import StaffModelView
from app.admin.shared.posting import done_or_flashed, staff_post
from app.auth.access import staff_actor
from app.errors import HookyardError, InvalidInput
from app.models import Role, utcnow
from app.staff.retry_cap import lift_retry_cap
from app.staff.users import create_user, update_user

ROLE_CHOICES = [r.value for r in Role]


class UserCreateForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="viewer")
    password = PasswordField(_l("Password"), validators=[Optional()],
                             description=_l("Leave empty to generate a one-time password shown once."))


class UserEditForm(Form):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    active = BooleanField(_l("Active"))


def _cap_cell(view, context, user, name):
    """The person's retry cap: lifted until when, and a form to lift it for the incident (or restore it)."""
    lifted = user.retry_cap_lifted_until
    lifted = lifted if lifted and lifted > utcnow() else None
    state = Markup(_("lifted until %(when)s", when=fmt.time_cell(lifted))) if lifted else _("normal")
    return Markup(
        '<span data-cap="{}">{}</span> <form method="post" action="{}" class="form-inline d-inline-flex">'
        '<input type="hidden" name="csrf_token" value="{}"><label class="visually-hidden" for="hours-{}">{}</label>'
        '<input class="form-control form-control-sm w-5rem mr-1" type="number" min="0" max="24" step="1" id="hours-{}" '
        'name="hours" value="{}"><button class="btn btn-sm btn-outline-secondary" type="submit" data-action="lift-cap">'
        '{}</button></form>').format(
        "lifted" if lifted else "normal", state, view.get_url(".lift_cap", user_id=user.id), generate_csrf(),
        user.id, _("Hours"), user.id, 0 if lifted else 4, _("Restore cap") if lifted else _("Lift for hours"))


class UserView(StaffModelView):
    """Staff accounts (admins only): roles, sign-in state, and lifting a person's retry cap for an incident."""

    required_role = Role.ADMIN
    can_create = can_edit = True
    create_label = _l("Add a person")
    column_list = ("email", "role", "active", "must_change_password", "last_login_at", "created_at",
                   "retry_cap_lifted_until")
    column_labels = {"must_change_password": _l("Must change password"), "last_login_at": _l("Last sign-in"),
                     "created_at": _l("Created"), "retry_cap_lifted_until": _l("Hourly retry cap"),
                     "email": _l("Email"), "role": _l("Role"), "active": _l("Active")}
    column_default_sort = ("email", False)
    column_formatters = {
        "role": lambda v, c, m, n: m.role.value,
        "last_login_at": fmt.field("last_login_at", fmt.time_cell),
        "created_at": fmt.field("created_at", fmt.time_cell),
        "retry_cap_lifted_until": _cap_cell,
    }

    def row_label(self, user):
        return user.email

    @expose("/lift-cap/<int:user_id>", methods=("POST",))
    @staff_post(Role.ADMIN, done=lambda self, user_id: self.back_to(".index_view"), refuses=HookyardError)
    def lift_cap(self, user_id):
        user = lift_retry_cap(user_id, request.form.get("hours"), actor=staff_actor())
        lifted = user.retry_cap_lifted_until
        if lifted:
            return _("Retry cap of %(email)s lifted until %(time)s UTC.", email=user.email, time=f"{lifted:%H:%M}")
        return _("Retry cap of %(email)s restored.", email=user.email)

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
            flash(exc.localized, "error")
            return False
        if generated:
            password = Markup('<code id="one-time-password">{}</code>').format(generated)
            copy = Markup('<button type="button" class="btn btn-sm btn-outline-secondary" '
                          'data-copy="one-time-password">{}</button>').format(_("Copy"))
            flash(Markup(_("One-time password for %(email)s: %(password)s %(copy)s (shown once; they choose their own "
                           "at first sign-in)", email=escape(user.email), password=password, copy=copy)), "success")
        return user

    def update_model(self, form, model):
        return done_or_flashed(lambda: update_user(model.id, role=form.role.data, active=form.active.data,
                                                   actor=staff_actor()), InvalidInput)
