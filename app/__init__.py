"""Hookyard: webhook delivery and monitoring on Flask, Flask-Admin and Dramatiq."""

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

# IMPORTANT: importing app.database bounds every PostgreSQL wait; it must happen before any engine connects.
from app import database, request_guard, request_hooks  # noqa: F401
from app.config import Config
from app.extensions import csrf, db, limiter, login_manager, migrate

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
    if not app.testing:
        from app.logs import configure_logging

        configure_logging(app.config["LOG_FORMAT"])
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    if app.config.get("PROCESS_ROLE") == "worker":
        # A worker process serves no page and no API call: none of the web's hooks, blueprints and admin views,
        # whose modules (Flask-Admin, the API's schemas, the docs) made up some 18 MB of each worker's memory.
        # Its texts (alerts, digests) are still written in the staff's language.
        from app import i18n

        i18n.init_app(app)
    else:
        _init_web(app)
    import tasks.alerts  # noqa: F401  connects committed alerts to the broker
    import tasks.bulk  # noqa: F401  connects committed jobs to the broker
    import tasks.deliveries  # noqa: F401  connects committed deliveries to the broker
    import tasks.inbound  # noqa: F401  connects committed inbound events to the broker
    from app.inbound.handlers import load_handler_modules

    load_handler_modules(app.config["INBOUND_HANDLER_MODULES"])

    return app


def _init_web(app):
    """What a process serving pages and the API needs: the request hooks, the blueprints, the admin views."""
    from app import i18n

    request_guard.init_app(app)  # IMPORTANT: first, so bad input is refused before any limiter or database work
    from app.portal.web import confine_partners

    app.before_request(confine_partners)  # IMPORTANT: before CSRFProtect: a partner gets 404 off the portal, any method
    app.session_interface = request_hooks.CookieSessions()
    from app.security import init_security_headers, set_json_headers

    with request_hooks.pages_only(app):  # the JSON API skips these extensions' hooks, in one check
        csrf.init_app(app)
        login_manager.init_app(app)
        login_manager.login_view = "auth.login"
        i18n.init_app(app)
        limiter.init_app(app)
        init_security_headers(app)  # IMPORTANT: before init_admin, which takes its csp_nonce() for Flask-Admin's tags
    app.after_request(set_json_headers)

    from app import cli, error_pages
    from app.admin import init_admin
    from app.api import bp as api_bp
    from app.auth import bp as auth_bp
    from app.docs import bp as docs_bp
    from app.inbound.web import bp as inbound_bp
    from app.ops.views import bp as ops_bp

    csrf.exempt(api_bp)  # the API authenticates each request with a bearer key, not a cookie
    app.register_blueprint(api_bp)
    csrf.exempt(inbound_bp)  # providers authenticate each webhook by its signature; no session, no limiter
    limiter.exempt(inbound_bp)
    app.register_blueprint(inbound_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(docs_bp)
    app.register_blueprint(ops_bp)
    from app.portal.web import bp as portal_bp

    app.register_blueprint(portal_bp)
    init_admin(app)
    error_pages.register(app)
    cli.register(app)
