"""Worker entry point: `dramatiq tasks.worker --processes 2 --threads 8 --worker-shutdown-timeout 25000`.

The CLI imports this module in each worker process after forking, so each builds its own app,
database pool and broker connection.
"""

from dramatiq.middleware import Middleware

from app import create_app
from tasks import bulk, deliveries  # noqa: F401  declares the actors
from tasks.broker import broker
from tasks.middleware import install
from tasks.sweeper import Sweeper

app = create_app()
install(broker, app)


class SweeperMiddleware(Middleware):
    """Run the recovery sweep in this worker process while it is up."""

    def __init__(self):
        self.sweeper = None

    def after_worker_boot(self, broker, worker):
        if app.config["WEBHOOK_SWEEP_INTERVAL_SECONDS"] > 0:
            self.sweeper = Sweeper(app)
            self.sweeper.start()

    def before_worker_shutdown(self, broker, worker):
        if self.sweeper:
            self.sweeper.stop()


broker.add_middleware(SweeperMiddleware())
