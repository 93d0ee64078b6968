"""Whether the database is PostgreSQL, and an autocommitted connection to it: the claim and the record take a
single-statement form there (claim.py and record.py build it from their one definition).

The statements run for every delivery or wake-up (the claim, the record, the gated check) are also run straight on a
pooled psycopg connection (run, rows): compiled once, their parameters converted by the same type processors
SQLAlchemy would use, without SQLAlchemy's per-execution work (its execution context, compiled-cache lookup and
result), which cost a worker more than the round trip; on a connection app.database.autocommitted lends (errors
raised as SQLAlchemy's, a lost connection dropped). Each is prepared on its first execution on a connection
(psycopg's prepare=True), not after five (psycopg's threshold): until then every execution was parsed and planned
anew, and the claim's plan costs the server 1.5-2 ms against its 0.05 ms run, so each new pooled connection of a worker
spent some 25 ms of the server's CPU on its first claims. (PostgreSQL still plans a prepared statement's first five
executions for their parameters before it settles on its generic plan: that part remains.)"""

import collections
import enum
import functools

from psycopg import pq
from sqlalchemy import exc as sa_exc

from app import database
from app.extensions import db


def available():
    """Whether the database is PostgreSQL."""
    return db.engine.dialect.name == "postgresql"


def release_reads():
    """Give the session's connection back to the pool when the session has only read (a cached setting refreshed,
    say) before an autocommitted statement takes a connection of its own: a worker slot then holds one connection
    at a time, and slots can never all hold one while each waits for a second (the pool has fewer than slots)."""
    session = db.session()
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        session.commit()


def autocommit():
    """A connection whose statements commit at once: a single-statement claim or record needs no BEGIN/COMMIT."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


class _Compiled:
    """A statement's SQL for the engine's dialect, the bind processors of its parameters and the result processors of
    the columns it returns."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        if compiled.positiontup is not None:
            raise ValueError("only a statement with named parameters runs straight")
        self.sql = compiled.string
        processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                      for name, bind in compiled.binds.items()}
        #: The values written into the statement itself (attempt_count + 1, status = 'sending') that have no SQL
        #: literal, bound as parameters; the others are written into its SQL (see _literal).
        self.fixed = {}
        for name, bind in compiled.binds.items():
            if bind.required:
                continue
            convert = processors[name] or (lambda value: value)
            if bind.expanding:  # status IN (...) of a fixed list: one value per item, as SQLAlchemy renders it
                values = list(bind.effective_value)
                if not values:
                    raise ValueError(f"{name}: an empty IN list does not run straight")
                literals = [_literal(bind.type, value, dialect) for value in values]
                if None in literals:
                    names = [f"{name}_{i}" for i in range(1, len(values) + 1)]
                    literals = [f"%({n})s" for n in names]
                    self.fixed.update(zip(names, map(convert, values), strict=True))
                self.sql = self.sql.replace(f"__[POSTCOMPILE_{name}]", ", ".join(literals))
            elif (literal := _literal(bind.type, bind.effective_value, dialect)) is not None:
                self.sql = self.sql.replace(f"%({name})s", literal)
            else:
                self.fixed[name] = convert(bind.effective_value)
        if "POSTCOMPILE" in self.sql:
            raise ValueError("a statement with an expanding parameter given at execution does not run straight")
        self.processors = tuple((name, processor) for name, processor in processors.items()
                                if processor is not None and compiled.binds[name].required
                                and not compiled.binds[name].expanding)
        columns = list(statement.exported_columns)
        #: What a returned row is: a named tuple of the statement's columns, each value as its type reads it.
        self.row = collections.namedtuple("Row", [getattr(column, "name", None) or f"_{i}"  # unnamed: a scalar
                                                  for i, column in enumerate(columns)], rename=True)  # subquery
        self.readers = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)

    def read(self, values):
        """A returned row's values as a Row, each converted as SQLAlchemy would."""
        return self.row._make(value if read is None else read(value)
                              for read, value in zip(self.readers, values, strict=True))

    def parameters(self, params):
        """params (by bind name) converted for the driver, with the statement's own values."""
        converted = {**params, **self.fixed}
        for name, processor in self.processors:
            converted[name] = processor(converted[name])
        return converted


def _literal(type_, value, dialect):
    """value as SQL written into a statement (escaped for psycopg's placeholders), or None where it is better bound:
    a string, number, boolean, enum member or NULL only.

    Why: PostgreSQL plans a prepared statement anew on every execution while a generic plan looks costlier, and a
    generic plan cannot use a partial index (status = 'pending') whose condition is a parameter: the claim, bound
    with its status values as parameters, was planned afresh each time (3 ms of the server's CPU against 0.2 ms
    to run it). Written as literals, the generic plan uses the partial indexes and PostgreSQL keeps it."""
    if value is None:
        return "NULL"
    if not isinstance(value, (str, int, float, enum.Enum)):  # bool is an int; dates, JSON and the like stay parameters
        return None
    render = type_.dialect_impl(dialect).literal_processor(dialect)
    if render is None:
        return None
    return render(value).replace("%", "%%")


@functools.lru_cache(maxsize=64)
def _compiled(statement, dialect):
    return _Compiled(statement, dialect)


def _instrumented(engine):
    """Whether something listens to the engine's statements (a tracer, a test counting them): then statements go
    through SQLAlchemy, so that it sees them."""
    return bool(engine.dispatch.before_cursor_execute or engine.dispatch.after_cursor_execute)


def run(statement, params):
    """Run statement (built once: it is the cache key) in autocommit and return its first row's first column
    (None when it returns nothing). Errors are raised as SQLAlchemy's, as Connection.execute raises them."""
    found = _execute(statement, params, first_only=True)
    return found[0][0] if found else None


def rows(statement, params):
    """Run statement as run() does and return every row it returns, as named tuples read by the columns' types."""
    return _execute(statement, params, first_only=False)


def _execute(statement, params, first_only):
    engine = db.engine
    if _instrumented(engine):
        with autocommit() as connection:
            result = connection.execute(statement, params)
            if not result.returns_rows:
                return []
            if first_only:
                return [row] if (row := result.first()) is not None else []
            return result.all()
    compiled = _compiled(statement, engine.dialect)
    try:
        converted = compiled.parameters(params)
    except Exception as error:  # as SQLAlchemy reports a value its type cannot take
        raise sa_exc.StatementError(f"a parameter could not be converted: {type(error).__name__}", compiled.sql,
                                    None, error, hide_parameters=True) from error
    with database.autocommitted(engine) as connection, connection.cursor() as cursor:
        cursor.execute(compiled.sql, converted, prepare=True)  # see the module's docstring
        if cursor.pgresult.status != pq.ExecStatus.TUPLES_OK:
            found = []
        elif first_only:
            found = [row] if (row := cursor.fetchone()) is not None else []
        else:
            found = cursor.fetchall()
    return [compiled.read(values) for values in found]
