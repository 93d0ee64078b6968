"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

import atexit
import gc
import threading

from app import create_app
from app.config import Config
from app.ops.broker_memory import warn_at_startup
from app.ops.metrics_store import PromptPublisher
from app.ops.web_watch import start_web_watch

app = create_app(Config(role="web"))

if app.config["EMBEDDED"]:  # no broker configured: this process also runs the worker
    from tasks.embedded import start_embedded_worker

    start_embedded_worker(app)
else:
    # In a thread: an unreachable broker must not hold up the web's start.
    threading.Thread(target=warn_at_startup, args=("web",), name="broker-policy", daemon=True).start()
    # Counts made here (inbound duplicates) reach the database within a second, not only when scraped.
    publisher = PromptPublisher(app)
    publisher.start()
    atexit.register(publisher.stop)

# The alerts that must not need a worker (none alive, inbound unprocessed, a source silent) are raised from here.
start_web_watch(app)

# Everything built so far lives as long as the process: keep the cyclic garbage collector from scanning it
# again on every full collection (as the workers do, tasks/worker.py).
gc.collect()
gc.freeze()
