"""Command-line tools: flask serve, flask sweep, flask api-keys create/list/revoke, flask users create."""

import socket
import threading
import time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app.audit import CLI
from app.auth.api_keys import SCOPES, create_api_key, list_api_keys, revoke_api_key
from app.cli_errors import refusals_said
from app.errors import InvalidInput
from app.extensions import db
from app.logs import configure_logging
from app.models import Role
from app.ops.alert_rules import evaluate_rules
from app.ops.digest import send_digest
from app.ops.retention import cutoffs, run_retention
from app.ops.sweeps import sweep_all
from app.staff.users import create_user, ensure_first_admin, password_box, reset_password

api_keys = AppGroup("api-keys", help="Manage producer API keys.")
users = AppGroup("users", help="Manage staff accounts.")
retention = AppGroup("retention", help="Purge old payloads and delete old rows.")
alerts = AppGroup("alerts", help="Alert rules and the daily digest.")


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="viewer", show_default=True)
@click.option("--password", help="Prompted for (hidden, twice) when not given.")
@click.option("--one-time", is_flag=True, help="Generate a one-time password, printed alone on the last line; "
              "it must be changed at first sign-in (for a platform's console, where nothing can prompt).")
def create_user_command(email, role, password, one_time):
    """Create a staff account."""
    if one_time and password:
        raise click.UsageError("give either --password or --one-time, not both")
    if password is None and not one_time:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with refusals_said(InvalidInput):
        user, generated = create_user(email, role, password, actor=CLI)
    click.echo(f"Created {user.email} ({user.role.value}).")
    if generated:
        click.echo(f"Sign in at {current_app.config['PUBLIC_URL'] or '<your app URL>'}/login with this one-time "
                   "password; you will choose your own at once:")
        click.echo(generated)


@users.command("reset-password")
@click.argument("email")
def reset_password_command(email):
    """Give a staff account a one-time password (printed once); they choose their own at next sign-in."""
    with refusals_said():
        password = reset_password(email, actor=CLI)
    click.echo(password_box(email, password))


@retention.command("run")
@click.option("--batch-size", type=int, default=None, help="Rows per committed batch (default RETENTION_BATCH_SIZE).")
@with_appcontext
def retention_run(batch_size):
    """Purge payloads older than the payload retention and delete rows older than RECORD_RETENTION_DAYS."""
    limits = cutoffs()
    click.echo(f"Purging payloads from before {limits['payloads']:%Y-%m-%d %H:%M} UTC and deleting records from "
               f"before {limits['records']:%Y-%m-%d %H:%M} UTC")
    for label, count in run_retention(batch_size).items():
        click.echo(f"{label}: {count}")


@alerts.command("evaluate")
@with_appcontext
def alerts_evaluate():
    """Evaluate the alert rules once (the workers do it every ALERT_INTERVAL_SECONDS)."""
    changes = evaluate_rules()["changes"]
    if not changes:
        click.echo("No alert started or recovered.")
    for change in changes:
        click.echo(f"{change['title']} {change['change']}: {change['summary']}")


@alerts.command("digest")
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="UTC day (default yesterday).")
@with_appcontext
def alerts_digest(day):
    """Send the daily digest now."""
    sent = send_digest(day.date() if day else None)
    if sent["sent_to"]:
        click.echo(f"Sent the digest for {sent['day']} ({sent['deliveries']} deliveries) to "
                   f"{sent['sent_to']} recipient(s).")
    else:
        click.echo(f"Did not send the digest for {sent['day']}: {sent['reason']}.")


@api_keys.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES),
              help="What the key may do (repeat for several); without any, everything.")
def create_key(name, scopes):
    """Create an API key; the key is printed alone on the last line and never shown again."""
    with refusals_said(InvalidInput):
        row, key = create_api_key(name, list(scopes) or None)
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
    with refusals_said():
        row = revoke_api_key(key_id, actor=CLI)
    click.echo(f"Revoked API key {row.id} ({row.name}).")


@click.command("sweep")
@click.option("--every", type=float, default=None, help="Keep sweeping every N seconds instead of once.")
@click.option("--grace", type=float, default=None, help="Seconds past due before a row is taken "
              "(default WEBHOOK_SWEEP_GRACE_SECONDS).")
@with_appcontext
def sweep_command(every, grace):
    """Run the recovery sweep over every kind of work (deliveries, bulk jobs, inbound events)."""
    while True:
        click.echo(f"swept: {sweep_all(grace).describe()}")
        if not every:
            return
        time.sleep(every)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int, envvar="PORT",
              help="Port to listen on (also from PORT; 5000 is taken by AirPlay on macOS).")
@with_appcontext
def serve(host, port):
    """Upgrade the database, start the embedded worker when no broker is set, and serve."""
    from flask_migrate import upgrade
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()
    upgrade()
    # IMPORTANT: after upgrade(): Alembic's env.py applies alembic.ini's logging (root at WARNING), which
    # would hide the per-attempt and per-inbound-event lines for the life of the server.
    configure_logging(current_app.config["LOG_FORMAT"])
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
    from app.ops.web_watch import start_web_watch

    start_web_watch(app)  # the alerts that must not need a worker, raised from the web process
    click.echo(f"Serving on http://{host}:{port}/  (API: http://{host}:{port}/api/v1/openapi.json)")
    if password:  # again once the server listens, so it is not lost among the start-up lines
        _echo_when_listening(host, port, f"First start: open http://{host}:{port}/login\n"
                             + password_box("admin@localhost", password))
    run_simple(host, port, app, threaded=True)


def _echo_when_listening(host, port, text, timeout=30.0):
    """Print text from a thread once host:port accepts connections (or after timeout)."""
    def wait_then_echo():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        click.echo(text)

    threading.Thread(target=wait_then_echo, name="password-box", daemon=True).start()


def register(app):
    """Add the commands, and the deploy commands (app.cli_deploy), to app.cli."""
    from app import cli_deploy

    for command in (api_keys, users, retention, alerts, sweep_command, serve, *cli_deploy.COMMANDS):
        app.cli.add_command(command)
