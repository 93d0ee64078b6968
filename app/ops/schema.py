"""Is the database's schema the one this code needs? Workers wait for it at start.

Render may start a new worker before the web's pre-deploy command has migrated the database (Heroku's
release phase runs first, but a worker restarted mid-release may still be early). A worker whose code
needs a newer schema than the database has waits instead of failing on every message.
"""

import logging
import time

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import exc as sa_exc

from app.extensions import db
from app.outages import database_unavailable

log = logging.getLogger(__name__)

#: How often a waiting worker looks again, in seconds.
POLL_SECONDS = 2.0


class SchemaNotReady(RuntimeError):
    """Raised when the database's schema is still behind the code's after the wait."""


def code_head():
    """Return the Alembic revision this code ships as its newest."""
    from app import MIGRATIONS_DIR

    return ScriptDirectory(MIGRATIONS_DIR).get_current_head()


def database_revisions():
    """Return the set of Alembic revisions the database says it is at (empty before any migration)."""
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def schema_ready():
    """Say whether the database has the code's newest revision, or a newer one this code does not know."""
    from app import MIGRATIONS_DIR

    current = database_revisions()
    if code_head() in current:
        return True
    script = ScriptDirectory(MIGRATIONS_DIR)
    known = {revision.revision for revision in script.walk_revisions()}
    return bool(current) and not current <= known  # ahead of this code: an older worker still running


def wait_for_schema(timeout, poll=POLL_SECONDS):
    """Return once the schema is ready; log one line if it is not yet; raise SchemaNotReady after timeout s."""
    deadline = time.monotonic() + timeout
    said = False
    while not _ready_or_unreachable():
        if time.monotonic() >= deadline:
            raise SchemaNotReady(f"the database is still not migrated to {code_head()} after {timeout:g} s; "
                                 "run `flask --app app release` (or `flask --app app db upgrade`)")
        if not said:
            log.warning("waiting for the database to be migrated to %s (now at %s; up to %g s): the web's "
                        "release / pre-deploy step runs the migrations", code_head(),
                        _where(), timeout)
            said = True
        time.sleep(poll)
    if said:
        log.warning("the database is migrated to %s: starting", code_head())


def _ready_or_unreachable():
    """schema_ready(), with a database that cannot answer yet counted as not ready."""
    try:
        return schema_ready()
    except sa_exc.SQLAlchemyError as exc:
        if not database_unavailable(exc):
            raise
        db.session.remove()
        return False


def _where():
    try:
        return ", ".join(sorted(database_revisions())) or "no revision"
    except sa_exc.SQLAlchemyError:
        return "the database does not answer"
