"""Hookyard: webhook delivery and monitoring on Flask, Flask-Admin and Dramatiq."""

import os

from flask import Flask

from app.config import Config
from app.extensions import db, migrate

#: Where the Alembic revisions live, whatever the working directory.
MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(config=None):
    """Create and configure the Flask application."""
    config = config or Config()
    instance_path = getattr(config, "HOOKYARD_INSTANCE_PATH", None)
    if instance_path:
        instance_path = os.path.abspath(instance_path)
    app = Flask(__name__, template_folder="../templates", instance_path=instance_path)
    app.config.from_object(config)
    from app.instance import ensure_keys  # late imports keep app -> api -> tasks -> app acyclic

    ensure_keys(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)

    from app import cli
    from app.api import bp as api_bp

    app.register_blueprint(api_bp)
    cli.register(app)
    import tasks.deliveries  # noqa: F401  connects committed deliveries to the broker

    return app
