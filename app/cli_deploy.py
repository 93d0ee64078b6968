"""Commands for deploying and trying Hookyard: flask release, flask smoke, flask receiver."""

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli_errors import refusals_said
from app.errors import InvalidInput
from app.ops.smoke import echo_url, send_smoke, wait_for_smoke
from app.staff.users import admin_exists

#: What the release step prints while no admin can sign in.
FIRST_ADMIN_HINT = """\
No admin account yet. Create the first one (a one-time password is printed on the last line):
  flask --app app users create you@example.com --role admin --one-time
On Heroku: heroku run flask --app app users create you@example.com --role admin --one-time
On Render: the same command in the web service's Shell tab."""


@click.command("release")
@with_appcontext
def release_command():
    """Migrate the database, then say how to create the first admin when there is none (the release step)."""
    from flask_migrate import upgrade

    upgrade()
    if not admin_exists():
        click.echo(FIRST_ADMIN_HINT)


@click.command("smoke")
@click.option("--timeout", type=float, default=60.0, show_default=True,
              help="Seconds to wait for the webhook to be delivered.")
@click.option("--url", default=None, help="Where the webhook goes (default: PUBLIC_URL + /smoke/echo, the web "
              "app's own echo route).")
@with_appcontext
def smoke_command(timeout, url):
    """Send one test webhook through the running workers and wait for it to succeed (exit 0) or not (exit 1)."""
    with refusals_said(InvalidInput):
        target = url or echo_url(current_app.config["PUBLIC_URL"])
        delivery_id = send_smoke(target)
    click.echo(f"Sent smoke test {delivery_id} to {target}; waiting up to {timeout:g} s for the workers ...")
    result = wait_for_smoke(delivery_id, timeout)
    if result.ok:
        click.echo(f"Smoke test passed: delivered in {result.seconds:.1f} s ({result.detail}).")
        return
    click.echo(f"Smoke test FAILED: {result.detail}", err=True)
    sys.exit(1)


@click.command("receiver")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9000, show_default=True, type=int)
def receiver_command(host, port):
    """Run a tiny webhook receiver that prints each request and answers 200 (to try Hookyard locally)."""
    from app.receiver import make_receiver

    server = make_receiver(host, port, lambda line: click.echo(line))
    click.echo(f"Receiving webhooks on http://{host}:{port}/ (any path); Ctrl-C stops.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


#: The commands this module adds (app.cli.register adds them to the app).
COMMANDS = (release_command, smoke_command, receiver_command)
