"""How the command-line tools say a refusal: its message as Click's error (stderr, exit status 1), no traceback."""

from contextlib import contextmanager

import click

from app.errors import HookyardError


@contextmanager
def refusals_said(errors=HookyardError):
    """Turn errors (an error class or a tuple of them) raised inside into a ClickException carrying their message."""
    try:
        yield
    except errors as exc:
        raise click.ClickException(exc.message) from None
