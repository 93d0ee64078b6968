"""Dramatiq middleware: an application context around each message, and the worker process's background work."""

import threading

from dramatiq.middleware import Middleware

from app.ops.metrics_store import PromptPublisher
from tasks.periodic import Periodic
from tasks.sweeper import Sweeper


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
    if broker.middleware:
        broker.add_middleware(middleware, before=type(broker.middleware[0]))
    else:
        broker.add_middleware(middleware)
    return middleware


class SweeperMiddleware(Middleware):
    """Run the recovery sweep, the periodic work (heartbeat, metrics, jobs) and the metrics publisher in this worker
    process while it is up."""

    def __init__(self, app):
        self.app = app
        self.sweeper = self.periodic = self.publisher = None

    def after_worker_boot(self, broker, worker):
        if self.app.config["WEBHOOK_SWEEP_INTERVAL_SECONDS"] > 0:
            self.sweeper = Sweeper(self.app)
            self.sweeper.start()
        self.periodic = Periodic(self.app, threads=worker.worker_threads, queues=worker.consumer_whitelist
                                 or broker.get_declared_queues())
        self.periodic.start()
        self.publisher = PromptPublisher(self.app)
        self.publisher.start()

    def before_worker_shutdown(self, broker, worker):
        for thread in (self.sweeper, self.periodic, self.publisher):  # the publisher stores the last counts
            if thread:
                thread.stop()
