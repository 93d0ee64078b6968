"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from app import create_app

app = create_app()

if app.config["EMBEDDED"]:  # no broker configured: this process also runs the worker
    from tasks.embedded import start_embedded_worker

    start_embedded_worker(app)
