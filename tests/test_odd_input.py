"""Odd input on every staff page and API route: a clear 4xx, or the parameter ignored; never a 500.

The routes are read from the app's URL map, so a page added later is walked too. On PostgreSQL (the
services pass) a NUL byte that reached a query used to be a 500; so were dates at the edge of the range,
page=-1, grace_hours=inf and their kind.
"""

from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.admin.shared.base import MAX_PAGE
from app.extensions import db
from app.models import ApiKey, Delivery, DeliveryStatus
from tests.support.factories import send, update
from tests.support.staff import session_token

#: Values a person, a crawler or an attacker may put anywhere.
ODD_VALUES = [
    "\x00", "a\x00b", "\t", "-1", "0", "99999999999999999999", "1e309", "inf", "-inf", "nan", "9999-12-31",
    "9999-12-30", "0001-01-01", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "x" * 3000, "%", "[",
    "//evil.example", "/\\evil.example", "' OR '1'='1", "💥",
]
#: Query parameters the pages and the API read, besides each list view's filters.
PARAMS = ["page", "page_size", "per_page", "sort", "desc", "search", "q", "status", "endpoint_id", "event_type",
          "created_from", "created_to", "since", "http_status", "error_class", "id", "url", "next", "force", "test"]
#: Path variables and the fixture row each one names.
#: Health checks: their 503 names the part that is down.
HEALTH_PATHS = {"/livez", "/healthz", "/readyz"}
PATH_ROWS = {"delivery_id": "delivery", "endpoint_id": "endpoint", "job_id": "job", "message_id": "message",
             "key_id": "key", "export_type": None}


@pytest.fixture
def rows(app, client, staff, make_endpoint, api_key):
    """One row of each kind, an admin signed in; returns {kind: id} and the API headers."""
    endpoint = make_endpoint()
    message_id, (delivery_id,) = send(app)
    update(app, Delivery, delivery_id, status=DeliveryStatus.FAILED)
    token = staff("admin")
    job = client.post("/admin/jobs/retry-matching", data={"csrf_token": token}).headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        key_id = db.session.scalar(select(ApiKey.id))
    return {"endpoint": endpoint.id, "delivery": delivery_id, "message": message_id, "job": job, "key": key_id,
            "token": token, "api": {"Authorization": f"Bearer {api_key}"}}


def get_routes(app):
    """Every GET route but static files, with its path variables."""
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.endpoint.endswith("static"):
            yield rule


def path_for(rule, rows, odd=None):
    """The route's path with real ids, or with odd in place of every variable."""
    values = {name: odd if odd is not None else rows.get(PATH_ROWS.get(name)) or "csv" for name in rule.arguments}
    path = rule.rule
    for name, value in values.items():
        path = path.replace(f"<{name}>", quote(value, safe=""))
    return path


def filter_params(app):
    """flt<n>_<key> for every filter of every list view (Flask-Admin reads them from the query string)."""
    admin = app.extensions["admin"][0]
    return [f"flt0_{key}" for view in admin._views for key in (getattr(view, "_filter_args", None) or {})]


def fetch(client, rows, path, query):
    """GET path with query (a dict, or a raw query string), with the API key on API paths."""
    headers = rows["api"] if path.startswith("/api/") else {}
    if isinstance(query, str):
        return client.get(f"{path}?{query}", headers=headers)
    return client.get(path, query_string=query, headers=headers)


def server_error(path, response):
    """Say whether response is a server error; a health check's 503 naming a part that is down (no worker runs
    here, so /readyz says so) is its answer, not an error."""
    if path in HEALTH_PATHS and response.status_code == 503:
        return response.json["status"] != "failing"
    return response.status_code >= 500


@pytest.mark.slow
def test_odd_query_values_never_give_a_server_error(app, client, rows):
    params = PARAMS + filter_params(app)
    failures = []
    for rule in get_routes(app):
        path = path_for(rule, rows)
        for value in ODD_VALUES:
            response = fetch(client, rows, path, {name: value for name in params})
            if server_error(path, response):
                failures.append((path, repr(value[:20]), response.status_code))
        response = fetch(client, rows, path, "q=%FF%FE&search=%ED%A0%80&page=%00")  # not UTF-8 at all
        if server_error(path, response):
            failures.append((path, "invalid UTF-8", response.status_code))
    assert not failures


@pytest.mark.slow  # about 45 s for the seven
@pytest.mark.parametrize("name", ["created_from", "created_to", "since", "page", "page_size", "per_page", "sort"])
def test_each_filter_alone_at_its_edges(app, client, rows, name):
    failures = []
    for rule in get_routes(app):
        if rule.arguments:
            continue  # lists and searches take filters; a page about one row does not
        path = path_for(rule, rows)
        for value in ODD_VALUES:
            if server_error(path, fetch(client, rows, path, {name: value})):
                failures.append((path, repr(value[:20])))
    assert not failures


def test_odd_path_values_never_give_a_server_error(app, client, rows):
    failures = []
    for rule in get_routes(app):
        if not rule.arguments:
            continue
        for value in ODD_VALUES:
            response = fetch(client, rows, path_for(rule, rows, odd=value), {})
            if response.status_code >= 500:
                failures.append((rule.rule, repr(value[:20]), response.status_code))
    assert not failures


def test_the_api_answers_odd_queries_with_a_clear_4xx(client, rows):
    for query in ({"page": "-1"}, {"page": "99999999999999999999"}, {"created_to": "9999-12-31"},
                  {"since": "9999-12-31T23:59:59-01:00"}, {"q": "a\x00b"}, {"status": ""}, {"per_page": "1e309"}):
        response = client.get("/api/v1/deliveries", query_string=query, headers=rows["api"])
        assert response.status_code in (400, 422), query
        assert response.json["error"], query


def test_the_monitor_ignores_a_bad_filter_and_says_so(client, rows):
    html = client.get("/admin/", query_string={"created_to": "9999-12-31", "status": "failed"}).get_data(as_text=True)
    assert "Filter ignored" in html and "created_to must be a date" in html
    assert client.get("/admin/", query_string={"page": "-1"}).status_code == 200
    assert client.get("/admin/", query_string={"page": str(MAX_PAGE * 10)}).status_code == 200


@pytest.mark.parametrize("hours", ["inf", "-inf", "nan", "1e309", "-1", "169", "", "abc"])
def test_rotation_refuses_an_impossible_grace_period(app, client, rows, hours):
    response = client.post(f"/admin/endpoints/{rows['endpoint']}/rotate", data={
        "csrf_token": rows["token"], "confirm": "ROTATE", "grace_hours": hours}, follow_redirects=True)
    if hours == "":  # blank means the default of 24 h
        assert response.status_code == 200 and "keeps signing beside it for 24 h" in response.get_data(as_text=True)
    else:
        assert response.status_code == 200 and "Grace period" in response.get_data(as_text=True)


ODD_FORMS = [
    ("/admin/settings/", {"retry_cooldown_seconds": "1e309", "retry_hourly_cap": "inf", "refresh_seconds": "-1"}),
    ("/admin/endpoints/{endpoint}/recover", {"since": "9999-12-31T23:59:59-01:00"}),
    ("/admin/endpoints/{endpoint}/recover", {"since": "0001-01-01T00:00:00+01:00"}),
    ("/admin/endpoints/{endpoint}/state", {"state": "x" * 300, "reason": "y" * 3000}),
    ("/admin/endpoints/{endpoint}/edit", {"url": "http://[", "timeout_seconds": "1e309", "max_attempts": "inf",
                                          "retry_schedule": "nan, inf", "headers": "X-A: caf\u00e9"}),
    ("/admin/endpoints/new", {"url": "http://" + "a" * 70 + ".example", "timeout_seconds": "99999999999999999999"}),
    ("/admin/jobs/retry-matching", {"created_to": "9999-12-31", "since": "0001-01-01T00:00:00+01:00"}),
    ("/admin/action/", {"action": "retry", "rowid": "x" * 3000}),
    ("/admin/action/", {"action": "nonsense", "rowid": "{delivery}"}),
    ("/admin/retry/{odd}", {"url": "//evil.example"}),
    ("/admin/cancel/{odd}", {"url": "/\\evil.example"}),
    ("/admin/api-keys/{odd}/revoke", {}),
    ("/admin/users/new/", {"email": "x" * 3000, "role": "emperor", "password": "short"}),
    ("/account/password", {"current": "x" * 3000, "new": "y" * 3000, "repeat": "z"}),
]


@pytest.mark.parametrize(("path", "form"), ODD_FORMS)
def test_odd_forms_are_refused_clearly(client, rows, path, form):
    names = {**rows, "odd": quote("x" * 300)}
    form = {name: value.format(**names) for name, value in form.items()}
    response = client.post(path.format(**names), data={**form, "csrf_token": rows["token"]})
    assert response.status_code < 500
    assert response.status_code != 302 or "evil.example" not in response.headers["Location"]


def test_a_nul_byte_in_a_form_is_refused_before_anything_happens(app, client, rows):
    response = client.post("/admin/settings/", data={"retry_hourly_cap": "5\x00", "csrf_token": rows["token"]})
    assert response.status_code == 400
    assert "control character" in response.get_data(as_text=True)
    assert session_token(client)  # still signed in, nothing else changed
