"""Dramatiq middleware that gives each message an application context."""

import threading

from dramatiq.middleware import Middleware


class AppContextMiddleware(Middleware):
    """Push a Flask app context around each message, so db.session is scoped to it and removed after."""

    def __init__(self, app):
        self.app = app
        self._local = threading.local()

    def before_process_message(self, broker, message):
        context = self.app.app_context()
        context.push()
        self._local.context = context

    def after_process_message(self, broker, message, *, result=None, exception=None):
        context = getattr(self._local, "context", None)
        if context is not None:
            self._local.context = None
            context.pop(exception)

    after_skip_message = after_process_message


def install(broker, app):
    """Add an AppContextMiddleware for app first in the chain, so its after-hooks run last."""
    middleware = AppContextMiddleware(app)
    broker.middleware.insert(0, middleware)
    return middleware
