from flask import Blueprint, Flask

from app.extensions import limiter
from app.request_hooks import API_BLUEPRINTS, pages_only


def test_page_hooks_run_in_flask_order_for_pages_and_never_for_the_api():
    app, calls = Flask(__name__), []
    with pages_only(app):
        for name in ("before 1", "before 2"):
            app.before_request(lambda name=name: calls.append(name))
        for name in ("after 1", "after 2"):
            app.after_request(lambda response, name=name: calls.append(name) or response)
        for name in ("teardown 1", "teardown 2"):
            app.teardown_request(lambda exc, name=name: calls.append(name))
    api = Blueprint("api", __name__, url_prefix="/api")
    api.get("/thing")(lambda: {})
    app.register_blueprint(api)
    app.get("/page")(lambda: "page")
    client = app.test_client()

    assert client.get("/api/thing").status_code == 200 and calls == []
    assert client.get("/page").status_code == 200
    assert calls == ["before 1", "before 2", "after 2", "after 1", "teardown 2", "teardown 1"]


def test_a_page_hooks_answer_still_ends_the_request():
    app = Flask(__name__)
    with pages_only(app):
        app.before_request(lambda: ("refused", 403))
    app.get("/page")(lambda: "page")
    assert app.test_client().get("/page").status_code == 403


def test_no_api_view_has_a_rate_limit_the_skipped_limiter_would_drop(app):
    api_views = {f"{view.__module__}.{view.__name__}" for endpoint, view in app.view_functions.items()
                 if endpoint.partition(".")[0] in API_BLUEPRINTS}
    assert api_views and not api_views & limiter._marked_for_limiting


def test_an_api_answer_reads_no_session_and_sets_no_cookie(client, auth):
    response = client.get("/api/v1/stats", headers=auth)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers  # Flask adds "Vary: Cookie" once anything reads the session
    assert client.get("/api/v1/stats").status_code == 401  # the API's own key check still runs


def test_pages_keep_csrf_the_session_cookie_and_their_nonce(client):
    page = client.get("/login")
    assert "nonce-" in page.headers["Content-Security-Policy"] and "Set-Cookie" in page.headers
    assert client.post("/login", data={"email": "a@example.com", "password": "x"}).status_code == 400  # no token
