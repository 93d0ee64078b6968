"""Sign in, sign out, change password. Every outcome is audited; sign-in attempts are rate-limited."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash

from app.audit import record
from app.auth import bp
from app.auth.access import local_url, staff_actor
from app.auth.forms import LoginForm, PasswordForm
from app.errors import InvalidInput
from app.extensions import db, limiter, login_manager
from app.models import User
from app.staff.users import authenticate, change_password


@login_manager.user_loader
def load_user(user_id):
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def _safe_next(target):
    """Only follow a local path after sign-in, never another site; staff land on the overview."""
    return local_url(target, url_for("overview.index"))


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _submitted_email():
    return (request.form.get("email") or "").strip().lower()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], error_message="Too many sign-in attempts; wait a minute.")
@limiter.limit(_login_limit, methods=["POST"], key_func=_submitted_email)
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data, ip=request.remote_addr)
        if user is not None:
            login_user(user)
            if user.must_change_password:
                return redirect(url_for("auth.password"))
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong email or password.", "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    record(staff_actor(), "logout", "signed out", target_type="user", target_ids=[current_user.id])
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        if not check_password_hash(current_user.password_hash, form.current.data):
            form.current.errors.append("This is not your current password.")
        else:
            try:
                change_password(current_user, form.new.data, actor=staff_actor())
            except InvalidInput as exc:
                form.new.errors.append(exc.message)
            else:
                flash("Password changed.", "success")
                return redirect(url_for("monitor.index_view"))
    return render_template("auth/password.html", form=form), 422 if form.errors else 200


@bp.get("/")
@bp.get("/sync")
def to_monitor():
    return redirect(url_for("monitor.index_view"))
