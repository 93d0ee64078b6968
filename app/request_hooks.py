"""App-wide request work the JSON API does without: the pages' hooks are skipped for it in one check.

The hooks that CSRFProtect, Flask-Login, Flask-Limiter and Talisman register serve the staff console and the
portal: a CSRF token (the API authenticates each request by its bearer key, not a cookie, and is exempt), the
remember-me cookie (the API signs no one in), the limiter (no API view has a limit: the API caps retries itself),
the page policy with its nonce (an API answer gets app.security.JSON_HEADERS instead). Each of them, asked for an
API request only to find it exempt, was together about a tenth of a `POST /api/v1/messages`' CPU.
"""

from contextlib import contextmanager

from flask import request
from flask.sessions import SecureCookieSessionInterface

#: Blueprints that answer JSON only and authenticate every request by its own key: no page hooks.
API_BLUEPRINTS = frozenset({"api"})


@contextmanager
def pages_only(app):
    """Make the app-wide request hooks registered inside the block run, in their order, for every request but an
    API_BLUEPRINTS one."""
    lists = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    known = [len(hooks.get(None, ())) for hooks in lists]
    yield
    for hooks, count, gate in zip(lists, known, (_before, _after, _teardown), strict=True):
        added = hooks.get(None, [])[count:]
        if added:
            hooks[None][count:] = [gate(added)]


def _before(hooks):
    def run_page_hooks():
        if request.blueprint in API_BLUEPRINTS:
            return None
        for hook in hooks:
            answer = hook()
            if answer is not None:
                return answer
        return None
    return run_page_hooks


def _after(hooks):
    def run_page_hooks(response):
        if request.blueprint in API_BLUEPRINTS:
            return response
        for hook in reversed(hooks):  # as Flask runs them
            response = hook(response)
        return response
    return run_page_hooks


def _teardown(hooks):
    def run_page_hooks(exc):
        if request.blueprint in API_BLUEPRINTS:
            return
        for hook in reversed(hooks):  # as Flask runs them
            hook(exc)
    return run_page_hooks


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with no serializer built for a request that sends no session cookie (every
    API call): its session is empty and new either way."""

    def open_session(self, app, request):
        """Return a new empty session without a cookie; else open it as Flask does."""
        if app.secret_key and (not request.environ.get("HTTP_COOKIE")  # no cookie at all: none parsed
                               or not request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()
        return super().open_session(app, request)
