"""Worker entry point: `dramatiq tasks.worker --processes 2 --threads 8 --worker-shutdown-timeout 25000`.

The CLI imports this module in each worker process after forking, so each builds its own app,
database pool and broker connection.
"""

import gc
import signal

from tasks.tripwires import WORKER_PROCESS_QUALNAME, require_dramatiq

# IMPORTANT: stop_once_on_sigterm recognises dramatiq.cli.worker_process's SIGTERM handler by its qualname.
require_dramatiq("tasks.worker.stop_once_on_sigterm (the qualname of dramatiq.cli.worker_process's SIGTERM handler)")

from app import create_app  # noqa: E402
from app.config import Config  # noqa: E402
from app.ops.broker_memory import warn_at_startup  # noqa: E402
from app.ops.schema import wait_for_schema  # noqa: E402
from tasks import alerts, bulk, deliveries, inbound, local_wakeups  # noqa: E402, F401  declares the actors
from tasks.broker import broker  # noqa: E402
from tasks.middleware import SweeperMiddleware, install  # noqa: E402
from tasks.wake_listener import WakeListenerMiddleware  # noqa: E402
from tasks.wake_timer import WakeTimerMiddleware  # noqa: E402

app = create_app(Config(role="worker"))
with app.app_context():  # IMPORTANT: before consuming: new code on an old schema would fail every message
    wait_for_schema(app.config["WORKER_SCHEMA_WAIT_SECONDS"])
install(broker, app)
warn_at_startup("worker")
# Everything imported and built so far lives as long as the process: keep the cyclic garbage collector
# from scanning it again and again (full collections took over 100 ms with it).
gc.collect()
gc.freeze()


def stop_once_on_sigterm():
    """Make Dramatiq's worker process act on the first SIGTERM only.

    IMPORTANT: Heroku (and systemd) send SIGTERM to every process of a dyno, so a worker process gets the
    platform's signal and then the one its main process forwards. Dramatiq takes a second SIGTERM as
    "kill now" and abandons the attempts in flight; here it only starts the graceful stop, which
    --worker-shutdown-timeout still bounds.
    """
    handler = signal.getsignal(signal.SIGTERM)
    if not getattr(handler, "__qualname__", "").startswith(WORKER_PROCESS_QUALNAME):
        return  # not inside a dramatiq worker process (tests, a shell)
    stopping = []

    def first_only(signum, frame):
        if not stopping:
            stopping.append(signum)
            handler(signum, frame)

    signal.signal(signal.SIGTERM, first_only)


stop_once_on_sigterm()
broker.add_middleware(SweeperMiddleware(app))
local_wakeups.install(broker)  # the listener's wake-ups go to this process's idle threads first
broker.add_middleware(WakeListenerMiddleware(app))
broker.add_middleware(WakeTimerMiddleware(app))
