"""Command-line tools: flask serve, flask sweep, flask api-keys create/list/revoke, flask users create."""

import logging
import time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.auth.api_keys import CLI, SCOPES, create_api_key, list_api_keys, revoke_api_key
from app.delivery.operations.sweep import sweep
from app.errors import HookyardError, InvalidInput
from app.extensions import db
from app.models import Role
from app.staff.users import create_user, ensure_first_admin

api_keys = AppGroup("api-keys", help="Manage producer API keys.")
users = AppGroup("users", help="Manage staff accounts.")


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="viewer", show_default=True)
@click.option("--password", help="Prompted for (hidden, twice) when not given.")
def create_user_command(email, role, password):
    """Create a staff account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, _ = create_user(email, role, password)
    except InvalidInput as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Created {user.email} ({user.role.value}).")


@api_keys.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES),
              help="What the key may do (repeat for several); without any, everything.")
def create_key(name, scopes):
    """Create an API key; the key is printed alone on the last line and never shown again."""
    try:
        row, key = create_api_key(name, list(scopes) or None)
    except InvalidInput as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Created API key {row.id} ({row.name}; scopes: {_scopes(row)}). "
               "Send it as 'Authorization: Bearer <key>':")
    click.echo(key)


def _scopes(row):
    return " ".join(row.scopes) if row.scopes is not None else "all"


def _when(moment):
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


@api_keys.command("list")
def list_keys():
    """List API keys: id, name, prefix, scopes, created, last used, revoked (never the key itself)."""
    for row in list_api_keys():
        click.echo("\t".join([row.id, row.name, f"{row.prefix}…", _scopes(row), _when(row.created_at),
                              f"used {_when(row.last_used_at)}",
                              f"revoked {_when(row.revoked_at)}" if row.revoked_at else "live"]))


@api_keys.command("revoke")
@click.argument("key_id")
def revoke_key(key_id):
    """Revoke an API key (by the id `list` shows); requests with it get 401 at once."""
    try:
        row = revoke_api_key(key_id, actor=CLI)
    except HookyardError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Revoked API key {row.id} ({row.name}).")


@click.command("sweep")
@click.option("--every", type=float, default=None, help="Keep sweeping every N seconds instead of once.")
@click.option("--grace", type=float, default=None, help="Seconds past due before a delivery is taken "
              "(default WEBHOOK_SWEEP_GRACE_SECONDS).")
@with_appcontext
def sweep_command(every, grace):
    """Re-enqueue overdue pending deliveries and recover expired leases."""
    while True:
        result = sweep(grace)
        click.echo(f"swept: {result.overdue} overdue, {result.expired_leases} expired leases re-enqueued, "
                   f"{result.resumed_jobs} stalled jobs resumed")
        if not every:
            return
        time.sleep(every)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve(host, port):
    """Upgrade the database, start the embedded worker when no broker is set, and serve."""
    from flask_migrate import upgrade
    from werkzeug.serving import run_simple

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    upgrade()
    password = ensure_first_admin()
    if password:
        click.echo(f"First start: sign in at http://{host}:{port}/login as admin@localhost with the one-time "
                   f"password {password} (you will choose your own).")
    # IMPORTANT: this CLI app context lives as long as the server; end its session now, or on SQLite its
    # open read transaction (BEGIN IMMEDIATE) would hold the write lock against every worker and request.
    db.session.remove()
    if app.config["EMBEDDED"]:
        from tasks.embedded import start_embedded_worker

        start_embedded_worker(app)
        click.echo("Embedded mode: SQLite database and an in-process worker (no Redis needed).")
    click.echo(f"Serving on http://{host}:{port}/  (API: http://{host}:{port}/api/v1/openapi.json)")
    run_simple(host, port, app, threaded=True)


def register(app):
    """Add the commands to app.cli."""
    app.cli.add_command(api_keys)
    app.cli.add_command(users)
    app.cli.add_command(sweep_command)
    app.cli.add_command(serve)
