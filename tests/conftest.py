import os

# IMPORTANT: choose the test services before app or tasks are imported: the broker is picked once, at
# import. Production settings are removed so a test can never reach them.
from app.config import PRODUCTION_VARIABLES  # noqa: E402  reads nothing at import (tasks.broker does)

for _name in PRODUCTION_VARIABLES:
    os.environ.pop(_name, None)

from tests.support.workers import isolate_worker  # noqa: E402

isolate_worker()  # under pytest-xdist: this worker's own database and Redis db
os.environ["BROKER_URL"] = os.environ.get("TEST_REDIS_URL", "")

from pathlib import Path  # noqa: E402
from queue import Queue  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import pytest  # noqa: E402
from dramatiq import Worker  # noqa: E402
from dramatiq.brokers.stub import StubBroker  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from app import create_app, outages  # noqa: E402
from app.audit import Action  # noqa: E402
from app.auth.api_keys import create_api_key  # noqa: E402
from app.config import TestConfig  # noqa: E402
from app.delivery.endpoints.service import create_endpoint  # noqa: E402
from app.extensions import db as _db  # noqa: E402
from app.models import AuditEntry  # noqa: E402
from tasks.broker import broker as _broker  # noqa: E402
from tasks.middleware import install  # noqa: E402
from tests.support.receiver import Receiver  # noqa: E402
from tests.support.services import check_service, require  # noqa: E402

USING_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
#: The fixtures that hand out a real service's URL (or skip); a test that uses one, directly or through another
#: fixture, is marked `services`.
SERVICE_FIXTURES = frozenset({"postgres_url", "redis_url", "rabbitmq_url"})
#: Tests under this folder run the Procfile's real processes; they are marked `e2e`.
E2E_TESTS = Path(__file__).parent / "e2e"
#: These run real processes too (the deploy walkthrough), without being marked e2e: their files start first too.
PROCESS_TESTS = Path(__file__).parent / "deploy"


def pytest_configure(config):
    # IMPORTANT: pytest-xdist's loadfile hands out files by how many tests they hold, most first, unless told to keep
    # the order of the collection: that would undo longest_files_first and leave a one-test file that runs for
    # minutes (the API contract, the deploy walkthrough) to the end, one process busy while the other waits.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_sessionstart(session):
    for variable in ("TEST_DATABASE_URL", "TEST_REDIS_URL"):
        if os.environ.get(variable):
            check_service(os.environ[variable])  # configured but down: fail loudly, do not skip


@pytest.hookimpl(tryfirst=True)  # IMPORTANT: before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        if SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)
        if item.path.is_relative_to(E2E_TESTS):
            item.add_marker(pytest.mark.e2e)
    items[:] = longest_files_first(items)


def longest_files_first(items):
    """The items with the files that take longest first (real processes, then anything slow or in a browser), each
    file's tests together and in their order: pytest-xdist hands out whole files as its processes free up, so the
    long ones start early instead of leaving one process busy at the end while the other waits."""
    weight = {}
    for item in items:
        markers = {marker.name for marker in item.iter_markers()}
        rank = 0 if "e2e" in markers or item.path.is_relative_to(PROCESS_TESTS) else 1 if markers & {
            "slow", "browser"} else 2
        weight[item.path] = min(weight.get(item.path, rank), rank)
    return sorted(items, key=lambda item: weight[item.path])  # stable: the order within each file is kept


@pytest.fixture(scope="session")
def postgres_url():
    """TEST_DATABASE_URL: the PostgreSQL server (and the run's database on it), or skip."""
    return require("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def redis_url():
    """TEST_REDIS_URL, or skip."""
    return require("TEST_REDIS_URL")


@pytest.fixture(scope="session")
def rabbitmq_url():
    """TEST_RABBITMQ_URL, or skip."""
    return require("TEST_RABBITMQ_URL")


@pytest.fixture(scope="session")
def _postgres_schema():
    """Rebuild the PostgreSQL schema once per run, so it always matches the models."""
    if USING_POSTGRES:
        app = create_app(TestConfig())
        with app.app_context():
            _db.drop_all()
            _db.create_all()
            _db.engine.dispose()


def _check_audit_action(mapper, connection, entry):
    assert type(entry.action) is str and entry.action in set(Action), (
        f"audit entry {entry.action!r} is not stored as the plain string of an app.audit.Action")


@pytest.fixture(scope="session", autouse=True)
def _audit_actions_are_known():
    """Fail any test whose code writes an audit entry that is not an Action's plain string, however it writes it."""
    event.listen(AuditEntry, "before_insert", _check_audit_action)
    yield
    event.remove(AuditEntry, "before_insert", _check_audit_action)


@pytest.fixture
def app(tmp_path, _postgres_schema):
    database_url = None if USING_POSTGRES else f"sqlite:///{tmp_path}/test.db"
    app = create_app(TestConfig(database_url=database_url))
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        if USING_POSTGRES:
            tables = ", ".join(t.name for t in _db.metadata.sorted_tables)
            _db.session.execute(text(f"TRUNCATE {tables} CASCADE"))
            _db.session.commit()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """The database, tables created. Push app.app_context() where a test reads or writes it, and let it
    go before a worker runs: on SQLite an open transaction holds the write lock."""
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def _fresh_queues():
    # A stopped Worker drops what it had prefetched or was holding until its delay ran out, and the in-memory
    # broker cannot take those back: their queues' unfinished-task counts never return to zero and every
    # later join() would wait forever. Each test starts with new, empty queues instead.
    if isinstance(_broker, StubBroker):
        for name in list(_broker.queues):
            _broker.queues[name] = Queue()


@pytest.fixture(autouse=True)
def broker():
    """The Dramatiq broker, emptied before and after every test so no wake-up leaks between tests (nor an
    outage another test staged)."""
    _fresh_queues()
    _broker.flush_all()
    outages.database.reset()
    outages.broker.reset()
    yield _broker
    _broker.flush_all()
    outages.broker.reset()


@pytest.fixture
def wake_by_notify(app):
    """Writes wake the workers by PostgreSQL NOTIFY (off in TestConfig: most tests join the broker after a commit);
    ask for it before worker, whose listener then runs. Skipped without PostgreSQL and a broker."""
    if not (app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") and app.config["BROKER_URL"]):
        pytest.skip("waking by NOTIFY needs PostgreSQL and a broker")
    app.config["WEBHOOK_WAKE_BY_NOTIFY"] = True
    return app


@pytest.fixture
def wake_timer(app):
    """Each worker keeps a wake timer (off in TestConfig: most tests join the broker after a commit); ask for it
    before worker, whose timer then runs."""
    app.config["WEBHOOK_WAKE_TIMER"] = True
    return app


@pytest.fixture
def worker(app, broker):
    from tasks import local_wakeups
    from tasks.wake_listener import WakeListenerMiddleware  # declares the delivery actors: not at conftest's import
    from tasks.wake_timer import WakeTimerMiddleware

    middleware = install(broker, app)
    listener = WakeListenerMiddleware(app)  # listens only when WEBHOOK_WAKE_BY_NOTIFY is on (as tasks.worker)
    timer = WakeTimerMiddleware(app)  # runs only when WEBHOOK_WAKE_TIMER is on (as tasks.worker)
    local_wakeups.install(broker)  # the listener's wake-ups go to idle threads first (as tasks.worker)
    broker.add_middleware(listener)
    broker.add_middleware(timer)
    worker = Worker(broker, worker_timeout=50, worker_threads=4)
    worker.start()
    yield worker
    worker.stop()
    # Each Worker adds its own middleware and never removes it; leave the broker as it was.
    broker.middleware[:] = [
        m for m in broker.middleware
        if m not in (middleware, listener, timer, local_wakeups.wakeups) and type(m).__name__ != "_WorkerMiddleware"
    ]


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def alerts(app):
    """Alerts configured to a notification receiver and a real SMTP server; yields (receiver, smtp)."""
    from tests.support.smtp import SMTPServer

    notified = Receiver()
    with SMTPServer() as smtp:
        app.config.update(ALERT_WEBHOOK_URL=notified.url("/alerts"), ALERT_EMAIL_TO=["ops@example.com"],
                          SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_STARTTLS=False)
        yield notified, smtp
    notified.close()


@pytest.fixture
def api_key(app):
    with app.app_context():
        _, key = create_api_key("tests")
    return key


@pytest.fixture
def auth(api_key):
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def make_endpoint(app, receiver):
    """Create an endpoint (receiver's URL by default); return a plain record with its id and secret."""

    def make(url=None, **overrides):
        with app.app_context():
            endpoint, secret = create_endpoint(url or receiver.url(), **overrides)
            return SimpleNamespace(id=endpoint.id, url=endpoint.url, secret=secret)

    return make


@pytest.fixture
def staff(app, client):
    """Sign in as a new user of the given role; returns the session's CSRF token."""
    from tests.support.staff import make_user, sign_in

    def as_role(role):
        make_user(app, role)
        return sign_in(client, f"{role}@example.com")

    return as_role
