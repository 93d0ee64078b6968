"""Access control shared by every admin view: sign-in required, then a minimum role."""

from flask import Response, abort, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user

from app.models import Role


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
        abort(403, description=f"This page needs the {self.required_role.value} role.")


class StaffModelView(StaffMixin, ModelView):
    """A read-only list for staff: newest first, 20 a page, no COUNT(*) on big tables."""

    can_create = can_edit = can_delete = False
    can_set_page_size = True
    page_size = 20
    page_size_options = (20, 50, 100)
    simple_list_pager = True


class HomeView(StaffMixin, AdminIndexView):
    """The admin index (the brand link): the overview is the home page."""

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        return redirect(url_for("overview.index"))
