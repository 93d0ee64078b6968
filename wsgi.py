"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

import gc

from app import create_app

app = create_app()

if app.config["EMBEDDED"]:  # no broker configured: this process also runs the worker
    from tasks.embedded import start_embedded_worker

    start_embedded_worker(app)

# Everything built so far lives as long as the process: keep the cyclic garbage collector from scanning it
# again on every full collection (as the workers do, tasks/worker.py).
gc.collect()
gc.freeze()
