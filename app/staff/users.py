"""Staff accounts: create, authenticate, change passwords and roles. Every change is audited."""

import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.audit import SYSTEM, Action, Actor, record
from app.checks import check_choice
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Role, User, utcnow
from app.rows import get_or_not_found
from app.staff.sessions import end_user_sessions

#: A plausible email address; delivery of mail is not this module's concern.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
#: Shortest password accepted.
MIN_PASSWORD_LENGTH = 10
#: A hash computed once, checked against when the email is unknown, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def _check_password(password):
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_l("a password needs at least %(min_password_length)s characters",
                              min_password_length=MIN_PASSWORD_LENGTH), field="password")
    return password


def _role(role):
    return check_choice(Role, role, _l("role must be viewer, operator or admin"), "role")


def create_user(email, role="viewer", password=None, *, actor=SYSTEM):
    """Create a user; return (user, one-time password or None). Without a password, one is generated
    and must be changed at first sign-in."""
    email = (email or "").strip().lower()
    if not EMAIL.fullmatch(email) or len(email) > 254:
        raise InvalidInput(_l("email must be an address like name@example.com"), field="email")
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise InvalidInput(_l("a user with email %(email)s already exists", email=email), field="email")
    generated = None if password else secrets.token_urlsafe(12)
    user = User(email=email, role=_role(role), must_change_password=generated is not None,
                password_hash=generate_password_hash(_check_password(password or generated)))
    db.session.add(user)
    db.session.flush()
    summary = _l("created %(email)s as %(role)s", email=email, role=user.role.value)
    record(actor, Action.USER_CREATE, summary, target_type="user",
           target_ids=[user.id], after={"email": email, "role": user.role.value, "active": True})
    db.session.commit()
    return user, generated


def authenticate(email, password, ip=None):
    """Return the active user with this email and password, or None; audits both outcomes."""
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password or "")
    if not (user and valid and user.active):
        record(Actor(email or "(blank)", ip), Action.LOGIN_FAILED, _l("sign-in refused"), target_type="user")
        db.session.commit()
        return None
    user.last_login_at = utcnow()
    record(Actor(email, ip), Action.LOGIN, _l("signed in"), target_type="user", target_ids=[user.id])
    db.session.commit()
    return user


def change_password(user, new_password, *, actor):
    """Set a new password chosen by the user; clears the one-time flag and ends every session of the user."""
    user.password_hash = generate_password_hash(_check_password(new_password))
    user.must_change_password = False
    ended = end_user_sessions(user.id, "password changed")
    summary = _l("password changed for %(email)s; %(ended)s sessions ended", email=user.email, ended=ended)
    record(actor, Action.USER_PASSWORD, summary,
           target_type="user", target_ids=[user.id])
    db.session.commit()


def update_user(user_id, *, actor, role=None, active=None):
    """Change a user's role or active flag; refuse to leave no active admin."""
    user = get_or_not_found(User, user_id, f"no user with id {user_id}")
    before = {"role": user.role.value, "active": user.active}
    if role is not None:
        user.role = _role(role)
    if active is not None:
        user.active = bool(active)
    if before["role"] == "admin" and not (user.role is Role.ADMIN and user.active) and _other_admins(user.id) == 0:
        db.session.rollback()
        raise InvalidInput(_l("this is the last active admin; make someone else admin first"), field="role")
    after = {"role": user.role.value, "active": user.active}
    if after != before:  # what the person may do changed: their sessions end, they sign in again
        end_user_sessions(user.id, "deactivated" if not user.active else "role changed")
    summary = _l("updated %(email)s", email=user.email)
    record(actor, Action.USER_UPDATE, summary, target_type="user", target_ids=[user.id],
           before=before, after=after)
    db.session.commit()
    return user


def _other_admins(user_id):
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.active.is_(True), User.id != user_id))


def admin_exists():
    """Say whether any active admin exists (someone who can sign in and manage the rest)."""
    return bool(db.session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.active.is_(True))))


def ensure_first_admin(email="admin@localhost"):
    """Create an admin with a one-time password when there are no users; return the password or None."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return None
    _, password = create_user(email, "admin")
    return password




def reset_password(email, *, actor):
    """Give a user a new one-time password, to be changed at next sign-in; return it (shown once)."""
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        raise NotFound(_l("no user with email %(email)s", email=email))
    password = secrets.token_urlsafe(12)
    user.password_hash = generate_password_hash(password)
    user.must_change_password = True
    summary = _l("one-time password set for %(email)s", email=email)
    record(actor, Action.USER_PASSWORD_RESET, summary, target_type="user",
           target_ids=[user.id])
    db.session.commit()
    return password


def password_box(email, password):
    """The one-time password in a box, easy to spot in start-up output."""
    lines = [f"Sign in as {email}", f"with the one-time password {password}", "(you will choose your own)"]
    width = max(len(line) for line in lines)
    border = "+" + "-" * (width + 2) + "+"
    return "\n".join([border, *(f"| {line.ljust(width)} |" for line in lines), border])


def check_locale(locale):
    """Return locale as stored ("" means None: follow the browser); InvalidInput unless the pages speak it."""
    from app.i18n import LOCALES

    locale = (locale or "").strip() or None
    if locale is not None and locale not in LOCALES:
        raise InvalidInput(_l("%(locale)s is not a language these pages speak; use one of %(locales)s",
                              locale=repr(locale[:16]), locales=', '.join(LOCALES)),
                           field="locale")
    return locale


def set_locale(user, locale, *, actor):
    """Set the language of a person's pages ("en", "vi"), or "" to follow the browser's; audited."""
    locale = check_locale(locale)
    before = user.locale
    user.locale = locale
    summary = _l("language of %(email)s: %(before)s -> %(after)s", email=user.email, before=before or _l("browser"),
                 after=locale or _l("browser"))
    record(actor, Action.USER_LOCALE, summary,
           target_type="user", target_ids=[user.id], before={"locale": before}, after={"locale": locale})
    db.session.commit()
    return user


def set_time_zone(user, zone, *, actor):
    """Set the time zone a person's pages show times in (an IANA name such as Europe/Paris); audited."""
    from zoneinfo import available_timezones

    zone = (zone or "").strip()
    if zone != "UTC" and zone not in available_timezones():
        raise InvalidInput(_l("%(zone)s is not a known time zone; use a name like Europe/Paris", zone=repr(zone[:64])),
                           field="time_zone")
    before = user.time_zone
    user.time_zone = zone
    summary = _l("time zone of %(email)s: %(before)s -> %(after)s", email=user.email, before=before, after=zone)
    record(actor, Action.USER_TIME_ZONE, summary, target_type="user",
           target_ids=[user.id], before={"time_zone": before}, after={"time_zone": zone})
    db.session.commit()
    return user
