"""A Dramatiq middleware that runs one background thread in each worker process while the process is up."""

from dramatiq.middleware import Middleware


class BackgroundThreadMiddleware(Middleware):
    """Run the thread make_thread() builds in this worker process while it is up, when app.config[setting] is on.
    The thread has start(), stop() (it notices within a wait of its own) and join(timeout)."""

    #: The app.config key that turns the thread on.
    setting = None
    #: Seconds to wait at shutdown for the thread to end.
    join_seconds = 2.0

    def __init__(self, app):
        self.app = app
        self.thread = None

    def make_thread(self):
        """The thread to run (not started)."""
        raise NotImplementedError

    def after_worker_boot(self, broker, worker):
        if self.app.config[self.setting]:
            self.thread = self.make_thread()
            self.thread.start()

    def before_worker_shutdown(self, broker, worker):
        if self.thread:
            self.thread.stop()

    def after_worker_shutdown(self, broker, worker):
        if self.thread:
            self.thread.join(self.join_seconds)
