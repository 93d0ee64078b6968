import re

from app.extensions import db
from app.models import AuditEntry, Role, Setting, User
from tests.support.staff import make_user, sign_in, user_count


def test_admin_creates_a_user_with_a_one_time_password(app, client, staff):
    token = staff("admin")
    response = client.post("/admin/users/new/", data={"email": "Ops@Example.com", "role": "operator",
                                                      "csrf_token": token}, follow_redirects=True)
    html = response.get_data(as_text=True)
    password = re.search(r"One-time password for ops@example.com: (\S+) ", html).group(1)
    with app.app_context():
        user = db.session.query(User).filter_by(email="ops@example.com").one()
        assert user.role is Role.OPERATOR and user.must_change_password
        assert password not in user.password_hash
        entry = db.session.query(AuditEntry).filter_by(action="user.create", actor="admin@example.com").one()
        assert entry.after == {"email": "ops@example.com", "role": "operator", "active": True}
        assert password not in str(entry.after) + entry.summary


def test_duplicate_or_bad_emails_are_refused(app, client, staff):
    token = staff("admin")
    for email in ("admin@example.com", "not-an-email"):
        client.post("/admin/users/new/", data={"email": email, "role": "viewer", "csrf_token": token})
    assert user_count(app) == 1


def test_admin_changes_a_role_with_before_and_after_audited(app, client, staff):
    token = staff("admin")
    user_id = make_user(app, "viewer", "v2@example.com")
    client.post(f"/admin/users/edit/?id={user_id}", data={"role": "operator", "active": "y", "csrf_token": token})
    with app.app_context():
        assert db.session.get(User, user_id).role is Role.OPERATOR
        entry = db.session.query(AuditEntry).filter_by(action="user.update").one()
        assert (entry.before["role"], entry.after["role"]) == ("viewer", "operator")


def test_the_last_admin_cannot_be_demoted(app, client, staff):
    token = staff("admin")
    with app.app_context():
        admin_id = db.session.query(User).filter_by(email="admin@example.com").one().id
    html = client.post(f"/admin/users/edit/?id={admin_id}", data={"role": "viewer", "csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "last active admin" in html
    with app.app_context():
        assert db.session.get(User, admin_id).role is Role.ADMIN


def test_cli_creates_users_and_prompts_for_the_password(app, runner, client):
    result = runner.invoke(args=["users", "create", "boss@example.com", "--role", "admin"],
                           input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert "Created boss@example.com (admin)" in result.output
    sign_in(client, "boss@example.com", "a long password")
    assert client.get("/admin/users/").status_code == 200
    result = runner.invoke(args=["users", "create", "boss@example.com", "--password", "another long one"])
    assert result.exit_code != 0 and "already exists" in result.output
    short = runner.invoke(args=["users", "create", "x@example.com", "--password", "short"])
    assert short.exit_code != 0 and "at least 10 characters" in short.output


def test_settings_are_validated_and_audited(app, client, staff):
    token = staff("admin")
    client.post("/admin/settings/", data={"retry_cooldown_seconds": "60", "retry_hourly_cap": "10",
                                          "refresh_seconds": "30", "csrf_token": token})
    bad = client.post("/admin/settings/", data={"retry_cooldown_seconds": "60", "retry_hourly_cap": "-1",
                                                "refresh_seconds": "often", "csrf_token": token},
                      follow_redirects=True).get_data(as_text=True)
    assert "must be from 0 to 100000" in bad and "enter a whole number" in bad
    with app.app_context():
        assert {s.key: s.value for s in db.session.query(Setting)} == {"retry_cooldown_seconds": 60}
        entry = db.session.query(AuditEntry).filter_by(action="setting.update").one()
        assert entry.before == {"retry_cooldown_seconds": 300} and entry.after == {"retry_cooldown_seconds": 60}


def test_first_start_creates_an_admin_only_when_there_is_nobody(app):
    from app.staff.users import ensure_first_admin

    with app.app_context():
        password = ensure_first_admin()
        assert password and ensure_first_admin() is None
        admin = db.session.query(User).one()
        assert admin.role is Role.ADMIN and admin.must_change_password
