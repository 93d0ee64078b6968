"""Sign staff in through the real login form, carrying the CSRF token the page hands out."""

import re

from app.extensions import db
from app.models import User
from app.staff.users import create_user

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def make_user(app, role, email=None):
    with app.app_context():
        user, _ = create_user(email or f"{role}@example.com", role, PASSWORD)
        return user.id


def csrf_from(html):
    match = _TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def login_token(client):
    """The CSRF token of the sign-in page (good for signing in only: a new session gets a new one)."""
    return csrf_from(client.get("/login").get_data(as_text=True))


def session_token(client):
    """The CSRF token of the signed-in session, read from a page that carries one."""
    return csrf_from(client.get("/account/password").get_data(as_text=True))


def sign_in(client, email, password=PASSWORD):
    """Sign in; return the CSRF token to send with later POSTs of this session."""
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": login_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return session_token(client)


def user_count(app):
    with app.app_context():
        return db.session.query(User).count()
