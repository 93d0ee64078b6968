"""PostgreSQL: the record of each attempt runs straight on a pooled psycopg connection (app.delivery.attempt.postgres
.run), not through SQLAlchemy's execution. It must write what SQLAlchemy would, fail as SQLAlchemy would, and never
hand a connection back changed."""

import logging

import pytest
from sqlalchemy import bindparam, exc, func, select, text, update

from app.delivery.attempt import postgres
from app.delivery.attempt.pipeline import attempt_deliveries
from app.extensions import db
from app.models import Delivery, DeliveryAttempt, DeliveryStatus
from tests.conftest import USING_POSTGRES
from tests.support.factories import load, send_many

pytestmark = pytest.mark.skipif(not USING_POSTGRES, reason="SQLite records through the session")

deliveries = Delivery.__table__
#: An UPDATE with a value of its own (an enum: status), a text and a timestamp given, and how many rows it moved.
_HELD = (update(deliveries).where(deliveries.c.id == bindparam("delivery"))
         .values(held_reason=bindparam("reason"), status=DeliveryStatus.PENDING, next_attempt_at=bindparam("at"))
         .returning(deliveries.c.id).cte("held"))
_HOLD = select(func.count()).select_from(_HELD)


def test_successes_are_recorded_in_one_straight_statement_each(app, make_endpoint, receiver, caplog):
    make_endpoint()
    ids = send_many(app, 4)
    with caplog.at_level(logging.WARNING, logger="app.delivery.attempt.record"), app.app_context():
        results = attempt_deliveries(ids)
    assert [record.message for record in caplog.records] == []  # no fallback to the path through the session
    assert sorted(result.delivery_id for result in results) == sorted(ids)
    with app.app_context():
        attempts = db.session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids))).all()
        assert {a.delivery_id for a in attempts} == set(ids)
        assert all(a.response_status == 200 and a.request_headers["Content-Type"] == "application/json"
                   for a in attempts)  # a dict in, JSON stored: the column's own conversion
        assert {a.trigger.value for a in attempts} == {"scheduled"}
    assert {load(app, i).status for i in ids} == {DeliveryStatus.SUCCEEDED}
    assert [load(app, i).attempt_count for i in ids] == [1, 1, 1, 1]  # the statement's own "+ 1"


def test_a_statement_binds_its_own_values_and_converts_the_given_ones(app, make_endpoint):
    make_endpoint()
    delivery_id, = send_many(app, 1)
    with app.app_context():
        at = load(app, delivery_id).created_at
        assert postgres.run(_HOLD, {"delivery": delivery_id, "reason": "held by a test", "at": at}) == 1
        assert postgres.run(_HOLD, {"delivery": "no-such", "reason": "x", "at": at}) == 0
    held = load(app, delivery_id)
    assert (held.held_reason, held.status, held.next_attempt_at) == ("held by a test", DeliveryStatus.PENDING, at)


def test_a_connection_goes_back_to_the_pool_as_it_was_handed_out(app):
    with app.app_context():
        size = db.engine.pool.size()
        for _ in range(size + 2):
            postgres.run(_HOLD, {"delivery": "no-such", "reason": "x", "at": None})
        with db.engine.connect() as connection:  # not left in autocommit: this transaction is rolled back
            connection.execute(text("CREATE TEMP TABLE kept (n int)"))
            connection.rollback()
            assert connection.execute(text("SELECT to_regclass('pg_temp.kept')")).scalar() is None
        assert db.engine.pool.checkedout() == 0


def test_a_statement_is_prepared_on_its_first_run_on_a_connection(app):
    """Not after psycopg's five: a new pooled connection of a worker would otherwise have the claim parsed and
    planned anew on each of its first runs (1.5-2 ms of the server's CPU each)."""
    statement = select(func.count()).select_from(
        update(deliveries).where(deliveries.c.id == bindparam("delivery")).values(held_reason="first run")
        .returning(deliveries.c.id).cte("touched"))  # a statement no other test runs: none has prepared it yet
    with app.app_context():
        assert postgres.run(statement, {"delivery": "no-such"}) == 0
        pooled = [db.engine.raw_connection() for _ in range(db.engine.pool.checkedin())]  # the one it ran on too
        try:
            prepared = [row[0] for connection in pooled for row in connection.driver_connection.execute(
                "SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")]
        finally:
            for connection in pooled:
                connection.close()
    assert [found for found in prepared if "'first run'" in found] != []


def test_a_connection_lent_in_autocommit_goes_back_idle_and_out_of_it(app):
    import psycopg

    from app import database

    with app.app_context():
        with database.autocommitted(db.engine) as lent:
            assert lent.autocommit
            lent.execute("SELECT 1")
        assert lent.autocommit is False and lent.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert db.engine.pool.checkedout() == 0
        pooled = db.engine.raw_connection()
        try:
            pooled.driver_connection.execute("SELECT 1")  # begins a transaction
            with pytest.raises(psycopg.ProgrammingError):  # as psycopg's own setter refuses it
                database._set_autocommit(pooled.driver_connection, True)
        finally:
            pooled.close()


def test_an_error_is_sqlalchemys_and_hides_the_values(app):
    with app.app_context():
        with pytest.raises(exc.DataError) as refused:  # by the server: held_reason is at most 64 characters
            postgres.run(_HOLD, {"delivery": "x", "reason": "secret-value" * 10, "at": None})
        assert "secret-value" not in str(refused.value)
        assert not refused.value.connection_invalidated
        with pytest.raises(exc.StatementError) as unconverted:  # by the column's type, before anything is sent
            postgres.run(_HOLD, {"delivery": "x", "reason": "secret-value", "at": "not a time"})
        assert "secret-value" not in str(unconverted.value)
        assert postgres.run(_HOLD, {"delivery": "no-such", "reason": "x", "at": None}) == 0  # the pool still works
        assert db.engine.pool.checkedout() == 0


def test_a_connection_the_server_dropped_is_never_handed_out_again(app):
    with app.app_context():
        postgres.run(_HOLD, {"delivery": "no-such", "reason": "x", "at": None})  # a pooled connection, used
        pids = {row[0] for row in db.session.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))}
        db.session.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"),
                           {"pids": list(pids)})
        db.session.commit()
        failed = []
        for _ in range(db.engine.pool.size() + 1):  # each dropped connection fails once, then is gone
            try:
                assert postgres.run(_HOLD, {"delivery": "no-such", "reason": "x", "at": None}) == 0
                break
            except exc.OperationalError as error:
                failed.append(error.connection_invalidated)
        else:
            pytest.fail("every connection kept failing")
        assert all(failed)


def test_a_claim_read_straight_is_the_claim_read_through_sqlalchemy(app, make_endpoint, monkeypatch):
    from app.delivery.attempt import fair

    make_endpoint(retry_schedule=[1, 5], rate_limit_per_second=9)
    send_many(app, 2)
    claimed = []
    for instrumented in (False, True):  # straight, then through SQLAlchemy (as when a tracer listens)
        monkeypatch.setattr(postgres, "_instrumented", lambda engine, answer=instrumented: answer)
        with app.app_context():
            claims, _ = fair.claim_next(1)
        claimed += claims
    straight, through = ({name: (type(value), value) for name, value in vars(claim).items()
                          if name not in ("delivery_id", "lease_token", "body", "headers", "formatted", "due_at")}
                         for claim in claimed)
    assert straight == through
    assert straight["trigger"][1].value == "scheduled" and straight["retry_schedule"][1] == [1, 5]
    assert claimed[0].due_at.tzinfo is not None and type(claimed[0].due_at) is type(claimed[1].due_at)


def test_psycopg_keeps_the_conversion_of_the_claim_and_the_record(app):
    """psycopg converts the placeholders of a longer query, or one with more parameters, anew on every execution
    (app.database raises its limits): the claim runs for every batch, the record for every delivery."""
    from psycopg import _queries

    from app.delivery.attempt import fair, record

    with app.app_context():
        for statement in (fair._statement("postgresql", 20), record._record_successes_statement(1, True),
                          record._record_successes_statement(1, False, True)):
            compiled = postgres._compiled(statement, db.engine.dialect)
            parameters = set(compiled.fixed) | set(statement.compile(dialect=db.engine.dialect).binds)
            assert len(compiled.sql.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
            assert len(parameters) <= _queries.MAX_CACHED_STATEMENT_PARAMS


def test_a_database_that_refuses_the_connection_is_an_error_sqlalchemy_would_raise(app):
    """The pool raises the driver's own error when it cannot connect; the web's 503 and the workers' outage handling
    know SQLAlchemy's."""
    from sqlalchemy import create_engine

    from app import database
    from tests.support.processes import free_port

    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none",
                           connect_args={"connect_timeout": 2})
    try:
        with pytest.raises(exc.OperationalError), database.autocommitted(engine):
            pass
    finally:
        engine.dispose()


def test_postgresql_keeps_one_plan_of_the_claim(app, make_endpoint):
    """The values a statement writes itself (status = 'pending') are in its SQL, not parameters: PostgreSQL's
    generic plan can then use the partial indexes, and it keeps that plan instead of planning the claim anew on
    every execution (which cost the server ten times the claim itself)."""
    from app import database
    from app.delivery.attempt import fair, record
    from app.models import utcnow

    make_endpoint()
    params = _claim_params(app, utcnow())
    with app.app_context():
        for statement in (fair._statement("postgresql", 20), record._record_successes_statement(1, True),
                          record._record_successes_statement(1, False, True),
                          fair._gated_or_test_statement("postgresql")):
            assert postgres._compiled(statement, db.engine.dialect).fixed == {}
        compiled = postgres._compiled(fair._statement("postgresql", 20), db.engine.dialect)
        with database.autocommitted(db.engine) as connection, connection.cursor() as cursor:
            for _ in range(12):  # psycopg prepares it at the 5th; PostgreSQL weighs a generic plan after 5 more
                cursor.execute(compiled.sql, compiled.parameters(params))
            generic, custom = cursor.execute(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
                (compiled.sql[:30].replace("%", "%%") + "%",)).fetchone()
            cursor.execute("DEALLOCATE ALL")
    assert custom <= 5 and generic >= 1


def _claim_params(app, now, limit=20, scan=320):
    """The bind parameters of the fair claim (fair._statement) at now, with an endpoint's share of 4 slots."""
    from app.delivery import scheduling
    from app.delivery.attempt import claim

    with app.app_context():
        return {**scheduling.due_params(now), "token": "t", "limit": limit, "scan": scan, "share": 4,
                "failing_share": 2, **claim.lease_params(now)}


def _rows_read(plan):
    """The most rows any node of an EXPLAIN (ANALYZE, FORMAT JSON) plan looked at over all its loops (those it
    produced and those its filters removed)."""
    counts = ("Actual Rows", "Rows Removed by Filter", "Rows Removed by Join Filter")
    own = sum(plan.get(count, 0) for count in counts) * plan.get("Actual Loops", 1)
    return max([own] + [_rows_read(child) for child in plan.get("Plans", [])])


def _plan(app, statement, params, generic=False):
    """The EXPLAIN (ANALYZE, FORMAT JSON) plan of a straight statement, run in a transaction rolled back: the plan
    PostgreSQL makes for these parameters, or (generic) the one a prepared statement keeps for any."""
    import re

    from psycopg import sql

    from app import database

    with app.app_context():
        compiled = postgres._compiled(statement, db.engine.dialect)
        values = compiled.parameters(params)
        with database.autocommitted(db.engine) as connection, connection.cursor() as cursor:
            cursor.execute("BEGIN")
            if generic:  # prepared with the types psycopg gives its parameters (a run undone tells them), explained
                names = dict.fromkeys(re.findall(r"%\((\w+)\)s", compiled.sql))  # $1, $2, ... in order of appearance
                cursor.execute("SAVEPOINT typed")
                cursor.execute(compiled.sql, values, prepare=True)
                types, = cursor.execute("SELECT parameter_types::text[] FROM pg_prepared_statements WHERE NOT from_sql"
                                        " ORDER BY prepare_time DESC LIMIT 1").fetchone()
                cursor.execute("ROLLBACK TO SAVEPOINT typed")
                numbered = re.sub(r"%\((\w+)\)s", lambda found: f"${list(names).index(found[1]) + 1}", compiled.sql)
                cursor.execute(f"PREPARE planned ({', '.join(types)}) AS {numbered.replace('%%', '%')}")
                cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                arguments = sql.SQL(", ").join(sql.Literal(values[name]) for name in names)
                (plan,), = cursor.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE planned({})").format(
                    arguments)).fetchone()
                cursor.execute("DEALLOCATE planned")
            else:
                (plan,), = cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + compiled.sql, values).fetchone()
            cursor.execute("ROLLBACK")
    return plan["Plan"]


@pytest.fixture
def stale_statistics(app):
    """analyze(succeeded=()): mark the deliveries succeeded (none: the table is empty) and have PostgreSQL analyze the
    table, so that its statistics say nothing is due, as before a backlog arrives; and keep autovacuum from analyzing
    it again until the test ends (with the backlog in its statistics, the plans would be the ones a test cannot
    tell apart)."""
    from app import database

    def statement(sql, *params):
        with app.app_context(), database.autocommitted(db.engine) as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)

    def analyze(succeeded=()):
        statement("ALTER TABLE deliveries SET (autovacuum_enabled = false)")
        statement("UPDATE deliveries SET status = 'succeeded' WHERE id = ANY(%s)", list(succeeded))
        statement("ANALYZE deliveries")

    yield analyze
    statement("ALTER TABLE deliveries RESET (autovacuum_enabled)")


def test_a_claim_reads_what_it_takes_however_its_statistics_lag_a_backlog(app, make_endpoint, stale_statistics):
    """A backlog that arrived after PostgreSQL last analyzed the table (its statistics say there is nothing due) must
    not make each claim read it again and again: claims cost 20-40 ms in a drain, growing with the backlog, as the
    planner hashed every due delivery to find the endpoints with something due, and drove the UPDATE from a scan of
    the backlog joined to the chosen rows. The claim finds the endpoints by a probe of each and updates the rows it
    locked by id. (Its batch may still be taken from a scan of the backlog's due index, once.)"""
    from app.delivery.attempt import fair
    from app.models import utcnow

    backlog, scan = 600, 40
    make_endpoint()
    stale_statistics()
    send_many(app, backlog)
    for generic in (False, True):  # the plan for these parameters, and the one PostgreSQL keeps for any
        plan = _plan(app, fair._statement("postgresql", 20), _claim_params(app, utcnow(), scan=scan), generic)
        assert plan["Actual Rows"] > 0  # it claimed a batch
        assert _rows_read(plan) <= scan, generic  # what it counts to size its batch, at most; not the backlog


def test_a_claim_takes_its_batch_by_id_once_its_statistics_know_the_backlog(app, make_endpoint, stale_statistics):
    """Analyzed with a backlog in it, PostgreSQL cannot tell how few rows the claim chose (a LIMIT of an expression):
    joined to them, the UPDATE hashed the whole table to find them (3 ms of a 4 ms claim against 10,000 due
    deliveries, and more with every row the table keeps). It finds them by their primary key."""
    from app.delivery.attempt import fair
    from app.models import utcnow

    backlog, scan = 10_000, 40  # hashing a smaller table looks cheaper to PostgreSQL, and is
    make_endpoint()
    send_many(app, backlog)
    stale_statistics()  # analyzed now, the backlog in the statistics
    for generic in (False, True):  # the plan for these parameters, and the one PostgreSQL keeps for any
        plan = _plan(app, fair._statement("postgresql", 20), _claim_params(app, utcnow(), scan=scan), generic)
        assert plan["Actual Rows"] > 0  # it claimed a batch
        assert _rows_read(plan) <= scan, generic


def test_the_check_of_named_deliveries_finds_them_by_id_however_its_statistics_lag_a_backlog(app, make_endpoint,
                                                                                           stale_statistics):
    """A wake-up asks whether the deliveries it names are for the gated path, often after another slot took them: by
    their primary key, not by reading the backlog's due index that PostgreSQL, its statistics saying nothing is due,
    took for the cheaper way."""
    from app.delivery import scheduling
    from app.delivery.attempt import fair
    from app.models import utcnow

    make_endpoint()
    stale_statistics(send_many(app, 1000))
    named = send_many(app, 1000)[-3:]
    plan = _plan(app, fair._gated_or_test_statement("postgresql"), {"ids": named, **scheduling.due_params(utcnow())})
    assert _rows_read(plan) <= len(named)


def test_a_claim_commits_without_waiting_for_the_disk_and_leaves_its_connection_as_it_was(app, make_endpoint):
    """The fair claim's own transaction does not wait for the disk (synchronous_commit off; a claim lost with the
    database server is sent again, and the record, which waits, makes it durable); the next statement on the same
    pooled connection, a record among them, waits as before."""
    from app import database
    from app.delivery.attempt import fair
    from app.models import utcnow

    make_endpoint()
    send_many(app, 2)
    params = _claim_params(app, utcnow())
    with app.app_context():
        compiled = postgres._compiled(fair._statement("postgresql", 20), db.engine.dialect)
        with database.autocommitted(db.engine) as connection, connection.cursor() as cursor:
            cursor.execute("BEGIN")
            taken = cursor.execute(compiled.sql, compiled.parameters(params)).fetchall()
            during = cursor.execute("SHOW synchronous_commit").fetchone()[0]
            cursor.execute("COMMIT")
            after = cursor.execute("SHOW synchronous_commit").fetchone()[0]
    assert len(taken) == 1 and during == "off" and after == "on"
