"""Sign in, sign out, change password. Every outcome is audited; sign-in and password attempts are rate-limited."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.security import check_password_hash

from app.audit import Action, record
from app.auth import bp, sessions, sign_in_limits
from app.auth.access import local_url, staff_actor
from app.auth.forms import LoginForm, PasswordForm
from app.errors import InvalidInput
from app.extensions import db, limiter, login_manager
from app.staff.users import authenticate, change_password

login_manager.user_loader(sessions.load)

#: Shown when a limit is reached (Flask-Limiter calls it, so it speaks the page's language).
TOO_MANY = _l("Too many attempts from here; wait a minute and try again.").__str__


def _safe_next(target):
    """Only follow a local path after sign-in, never another site; staff land on the overview."""
    return local_url(target, url_for("overview.index"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(sign_in_limits.login_limit, methods=["POST"], key_func=sign_in_limits.by_address, error_message=TOO_MANY)
@limiter.limit(sign_in_limits.login_account_limit, methods=["POST"], key_func=sign_in_limits.by_address_and_account,
               error_message=TOO_MANY)
def login():
    """Show the sign-in form; sign a person in with a fresh session."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data, ip=request.remote_addr)
        if user is not None:
            sessions.start(user)
            if user.must_change_password:
                return redirect(url_for("auth.password"))
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong email or password."), "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


@bp.post("/logout")
@login_required
def logout():
    """End this session, on the server too: a copy of its cookie signs nobody in afterwards."""
    record(staff_actor(), Action.LOGOUT, _l("signed out"), target_type="user", target_ids=[current_user.id])
    sessions.end()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(sign_in_limits.password_limit, methods=["POST"], key_func=sign_in_limits.by_user, error_message=TOO_MANY)
def password():
    """Change one's own password; every session of the person ends, and this browser gets a fresh one."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not check_password_hash(current_user.password_hash, form.current.data):
            record(staff_actor(), Action.USER_PASSWORD_REFUSED, _l("wrong current password"), target_type="user",
                   target_ids=[current_user.id])
            db.session.commit()
            form.current.errors.append(_("This is not your current password."))
        else:
            user = current_user._get_current_object()
            try:
                change_password(user, form.new.data, actor=staff_actor())
            except InvalidInput as exc:
                form.new.errors.append(exc.localized)
            else:
                sessions.start(user)  # every session ended, this one too: a stolen copy of its cookie dies with it
                flash(_("Password changed; every other session was signed out."), "success")
                return redirect(url_for("overview.index"))
    return render_template("auth/password.html", form=form), 422 if form.errors else 200


@bp.get("/")
@bp.get("/sync")
def to_monitor():
    """Send people to the sync monitor."""
    return redirect(url_for("monitor.index_view"))
