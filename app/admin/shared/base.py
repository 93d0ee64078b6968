"""What every staff view is built on: sign-in required, then a minimum role (StaffMixin); the read-only model list
(StaffModelView); the hand-built page (StaffView)."""

import re

from flask import Response, abort, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.errors import NotFound
from app.models import Role

#: The last list page anyone may ask for: a larger OFFSET is a long scan, or past PostgreSQL's bigint a 500.
MAX_PAGE = 10_000
#: Integer primary keys fit in a signed 64-bit integer (PostgreSQL bigint).
_BIGINT = range(-(2**63), 2**63)


class StaffMixin:
    """Visible to signed-in staff holding required_role; anonymous people go to the sign-in page."""

    required_role = Role.VIEWER

    def is_accessible(self):
        return (current_user.is_authenticated and not current_user.must_change_password
                and current_user.has_role(self.required_role))

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            if request.headers.get("HX-Request"):  # a live fragment after the session ended: the whole page goes
                return Response(status=401, headers={"HX-Redirect": url_for("auth.login")})
            return redirect(url_for("auth.login", next=request.full_path))
        if current_user.must_change_password:
            return redirect(url_for("auth.password"))
        abort(403, description=_("This page needs the %(role)s role.", role=self.required_role.value))

    def back_to(self, endpoint=".index", **args):
        """Redirect to one of this view's pages (or another view's, named with its endpoint)."""
        return redirect(self.get_url(endpoint, **args))


def or_404(row, description):
    """Return row, or answer 404 saying description when it is None."""
    if row is None:
        abort(404, description=description)
    return row


def found(lookup, *args):
    """Return lookup(*args), or answer 404 with its message when it names no row."""
    try:
        return lookup(*args)
    except NotFound as exc:
        abort(404, description=exc.localized)


class StaffView(StaffMixin, BaseView):
    """A hand-built staff page: Flask-Admin gives it the menu, the theme and the access hook; its routes are its own.
    A state-changing route is decorated with app.admin.shared.posting.staff_post."""


class StaffModelView(StaffMixin, ModelView):
    """A read-only list for staff: newest first, 20 a page, no COUNT(*) on big tables."""

    can_create = can_edit = can_delete = False
    can_set_page_size = True
    list_template = "admin/model/staff_list.html"
    #: Yes and no in words, not Flask-Admin's icons.
    column_type_formatters = {**typefmt.BASE_FORMATTERS, bool: lambda view, value, name: _("yes") if value else _("no")}
    #: The text of a row's details button, and of the create button (the list template shows them).
    view_label = _l("View")
    create_label = _l("Create")
    page_size = 20
    page_size_options = (20, 50, 100)
    simple_list_pager = True

    def _get_list_extra_args(self):
        # Flask-Admin takes ?page= as any integer; keep it between the first and the last page served.
        args = super()._get_list_extra_args()
        args.page = min(max(args.page or 0, 0), MAX_PAGE)
        return args

    def row_label(self, row):
        """How a row is named to screen readers beside its buttons ("View: <this>")."""
        return str(getattr(row, "id", row))

    def get_one(self, id):
        """The row with this ?id=, or None (Flask-Admin then says so) for an id the key column cannot hold."""
        if issubclass(self.model.__mapper__.primary_key[0].type.python_type, int):
            if not isinstance(id, str) or not re.fullmatch(r"-?[0-9]{1,19}", id) or int(id) not in _BIGINT:
                return None
        return super().get_one(id)


class HomeView(StaffMixin, AdminIndexView):
    """The admin index (the brand link): the overview is the home page."""

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("overview.index"))
