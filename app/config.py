"""Every setting, read from the environment with its default and range (SETTINGS). Nothing else reads os.environ.

The README's Configuration table lists the same variables; tests/test_config.py holds the two together.
"""

import math
import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from app.env import Env, env_bool, number, parse_list

#: The default wait, in seconds, before each retry (DESIGN: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
DEFAULT_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)

#: Payload fields indexed for search by default: order numbers, QR codes and Shopify ids as the seeds send them.
DEFAULT_SEARCH_PAYLOAD_PATHS = ("order.id", "order_id", "qr_code", "data.qrCode", "data.shopifyOrderId",
                                "data.shopifyOrderNumber")

#: Networks an embedded (laptop) install may send to, so a receiver on localhost works.
EMBEDDED_ALLOWED_NETWORKS = ("127.0.0.0/8", "::1/128")

#: Longest per-attempt deadline an endpoint may set, and longest grace of a rotated-out secret (7 days).
MAX_TIMEOUT_SECONDS = 30
MAX_ROTATION_GRACE_SECONDS = 7 * 86400

#: Variables that point at production services: the test suite and the benchmarks' children never inherit them.
PRODUCTION_VARIABLES = ("DATABASE_URL", "REDIS_URL", "BROKER_URL")
#: The Fernet key the test suite and the benchmarks encrypt endpoint secrets with (never a real install's).
TEST_ENCRYPTION_KEY = "x3Lf0pNSSaJFbRiyKHOuwL4KT8H1NKNvY2MwYz8RAOQ="
#: Variables read elsewhere, listed in the README's Configuration table too: the Procfile's gunicorn processes and
#: threads, and prometheus_client's folder of multiprocess counters (app.ops.metrics_store).
READ_ELSEWHERE = ("WEB_CONCURRENCY", "WEB_THREADS", "PROMETHEUS_MULTIPROC_DIR")

#: Variables that Heroku (DYNO) and Render (RENDER) set in every process behind their one-hop router.
PLATFORM_ROUTER_VARIABLES = ("DYNO", "RENDER")

#: Seconds Redis may take to accept a connection, and to answer a command (broker, rate limits), by default.
REDIS_CONNECT_TIMEOUT_SECONDS = 2
REDIS_SOCKET_TIMEOUT_SECONDS = 5
#: A PostgreSQL client stops waiting this long after the server's own statement timeout should have fired:
#: a frozen server or a network that drops packets never answers at all (see app.database).
DATABASE_CLIENT_MARGIN_SECONDS = 2
#: PostgreSQL connections each process keeps (DB_POOL_SIZE) and may open beyond them (DB_MAX_OVERFLOW), by the
#: process's role. Sized so the Procfile's defaults (2 web + 2 worker processes, each worker's NOTIFY listener, a
#: release or console) stay within the 20 connections of Heroku's smallest plan (essential-0): see the README's
#: "Connection budget". None of the web's and worker's are overflow: SQLAlchemy closes an overflow connection as soon
#: as it is given back, so a worker's slots opened a new connection many times a second (a backend started, its
#: statements planned anew); within the same budget, every connection is kept.
POOL_DEFAULTS = {"web": (3, 0), "worker": (4, 0), None: (5, 5)}
#: Largest DB_POOL_SIZE and DB_MAX_OVERFLOW accepted.
MAX_POOL_CONNECTIONS = 100
#: PostgreSQL's connect timeout is never under this many seconds (a smaller DATABASE_CONNECT_TIMEOUT_SECONDS is raised).
MIN_CONNECT_TIMEOUT_SECONDS = 2
#: A web request's client gives up this long after its own (shorter) statement timeout (app.database).
DATABASE_REQUEST_MARGIN_SECONDS = 0.5
#: TCP keepalives on PostgreSQL connections, in seconds: an idle peer that vanished is noticed within
#: idle + interval * count.
DATABASE_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


def database_url(raw):
    """Return a SQLAlchemy URL for DATABASE_URL, accepting Heroku's postgres:// spelling."""
    if not raw:
        return "sqlite:///hookyard.db"  # Flask-SQLAlchemy puts it in the instance folder
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def redis_url(url, *, connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS, socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS):
    """Return url with bounded connect and socket timeouts, and TLS verification relaxed for rediss://, unless
    the URL already says.

    Heroku Key-Value Store serves TLS with a self-signed chain; RedisBroker silently drops keywords such as
    ssl_cert_reqs or socket_timeout when given a url, so they have to travel in the query string.
    """
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if parts.scheme == "rediss" and "ssl_cert_reqs" not in query:
        query["ssl_cert_reqs"] = "none"
    query.setdefault("socket_connect_timeout", f"{connect_timeout:g}")
    query.setdefault("socket_timeout", f"{socket_timeout:g}")
    return urlunsplit(parts._replace(query=urlencode(query)))


def engine_options(url, config):
    """SQLAlchemy engine options: no request data in error messages, and on PostgreSQL bounded waits to connect,
    per statement, for a lock, for a pooled connection and for any answer at all.

    No ping before each connection checkout: it costs a round trip per request and per worker transaction. A
    connection that died (the database restarted) fails one request or message instead (503), and SQLAlchemy
    then drops every stale connection of the pool.
    """
    options = {"pool_pre_ping": False, "hide_parameters": True}
    if url.startswith("postgresql"):
        statement_ms = int(config.DATABASE_STATEMENT_TIMEOUT_SECONDS * 1000)
        lock_ms = int(config.DATABASE_LOCK_TIMEOUT_SECONDS * 1000)
        client_wait_seconds = config.DATABASE_STATEMENT_TIMEOUT_SECONDS + DATABASE_CLIENT_MARGIN_SECONDS
        options["pool_timeout"] = config.DATABASE_POOL_TIMEOUT_SECONDS
        options["pool_size"], options["max_overflow"] = config.DB_POOL_SIZE, config.DB_MAX_OVERFLOW
        options["connect_args"] = {
            "application_name": config.DATABASE_APPLICATION_NAME,
            "connect_timeout": config.DATABASE_CONNECT_TIMEOUT_SECONDS,
            **DATABASE_KEEPALIVES,
            # Sent bytes left unacknowledged this long (a peer gone without a reset) drop the connection.
            "tcp_user_timeout": int(client_wait_seconds * 1000),
            "options": f"-c statement_timeout={statement_ms} -c lock_timeout={lock_ms}",
            # Read by app.database, not by the driver: how long the client waits for any answer.
            "hookyard_wait_timeout": client_wait_seconds,
        }
    return options


def parse_schedule(raw):
    """Parse a comma-separated list of seconds such as "5,300,1800"."""
    if not raw:
        return list(DEFAULT_RETRY_SCHEDULE)
    try:
        delays = [float(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds, got {raw!r}") from None
    if not delays or any(not math.isfinite(delay) or delay < 0 for delay in delays):
        raise ValueError(f"WEBHOOK_RETRY_SCHEDULE must list one or more non-negative delays, got {raw!r}")
    return delays




def email_language(raw):
    """Parse the language of alert and digest emails: en or vi."""
    if raw.strip() not in ("en", "vi"):
        raise ValueError(raw)
    return raw.strip()


def without_trailing_slash(raw):
    """Drop the trailing slashes of a base URL."""
    return raw.rstrip("/")


def _embedded(config):
    return not config.BROKER_URL


def _notify_relay(config):
    return config.SQLALCHEMY_DATABASE_URI.startswith("postgresql") and not _embedded(config)


def _pool(index):
    return lambda config: POOL_DEFAULTS.get(config.PROCESS_ROLE, POOL_DEFAULTS[None])[index]


def _proxy_hops(config):
    return 1 if any(config.environ.get(name) for name in PLATFORM_ROUTER_VARIABLES) else 0


def _rate_limit_storage(config):
    redis_broker = config.BROKER_URL.startswith(("redis://", "rediss://"))
    return config.redis_url(config.BROKER_URL) if redis_broker else "memory://"


KB, MB = 1024, 1024 * 1024
DAY = 86_400

#: Every setting read from the environment, by section, in reading order (a default may use the rows above it).
SECTIONS = (
    ("Instance, keys and services", (
        Env("HOOKYARD_INSTANCE_PATH", doc="Folder for the local SQLite database and generated keys (./instance)."),
        Env("SECRET_KEY", doc="Signs sessions; generated into the instance folder on SQLite, required otherwise."),
        Env("SECRETS_ENCRYPTION_KEY", doc="Fernet key(s), comma-separated, newest first; encrypts secrets at rest."),
        Env("DATABASE_URL", database_url, database_url(None), key="SQLALCHEMY_DATABASE_URI",
            doc="PostgreSQL in production (postgres:// accepted); a SQLite file in the instance folder by default."),
        Env("BROKER_URL", default="", also=("REDIS_URL",),
            doc="redis://, rediss:// or amqp:// selects the broker; empty means the embedded default."),
    )),
    ("PostgreSQL", (
        # Past these a request answers 503 instead of hanging (see app.outages).
        Env("DATABASE_CONNECT_TIMEOUT_SECONDS", int, 5, 0, 300,
            doc=f"Seconds to connect (at least {MIN_CONNECT_TIMEOUT_SECONDS})."),
        Env("DATABASE_STATEMENT_TIMEOUT_SECONDS", number, 30, 0.1, DAY, doc="Seconds per statement."),
        Env("DATABASE_LOCK_TIMEOUT_SECONDS", number, 10, 0.1, DAY, doc="Seconds waiting for a lock."),
        Env("DATABASE_POOL_TIMEOUT_SECONDS", number, 10, 0, 3600, doc="Seconds waiting for a pooled connection."),
        Env("DB_POOL_SIZE", int, _pool(0), 1, MAX_POOL_CONNECTIONS,
            doc="Connections this process keeps open (by role: POOL_DEFAULTS)."),
        Env("DB_MAX_OVERFLOW", int, _pool(1), 0, MAX_POOL_CONNECTIONS,
            doc="Connections this process may add under load (by role: POOL_DEFAULTS)."),
        Env("DATABASE_REQUEST_TIMEOUT_SECONDS", number, 5, 0.1, 3600,
            doc="Within a web request: seconds per statement and lock (the client waits half a second more)."),
        Env("INBOUND_DATABASE_TIMEOUT_SECONDS", number, 3, 0.1, 3600,
            doc="The same for POST /inbound/<source>, under Shopify's 5 s."),
    )),
    ("Broker and Redis", (
        Env("BROKER_HANDOFF_IN_BACKGROUND", env_bool, lambda config: not _embedded(config),
            doc="Web requests hand committed work to the broker from a background thread (app.handoff)."),
        Env("WEBHOOK_WAKE_BY_NOTIFY", env_bool, _notify_relay,
            doc="send_message() and the API wake the workers by a PostgreSQL NOTIFY in their own transaction, not a "
                "broker message at commit (on with PostgreSQL and a broker; the workers listen)."),
        Env("WEBHOOK_WAKE_TIMER", env_bool, True,
            doc="Each worker keeps a timer set to when the next pending delivery is due (a deliver_at, a retry) and "
                "wakes the claim then, not when the broker's delayed message arrives (which stays the fallback)."),
        Env("REDIS_CONNECT_TIMEOUT_SECONDS", number, REDIS_CONNECT_TIMEOUT_SECONDS, 0.1, 300,
            doc="Redis (broker and rate limits): seconds to connect."),
        Env("REDIS_SOCKET_TIMEOUT_SECONDS", number, REDIS_SOCKET_TIMEOUT_SECONDS, 0.1, 300,
            doc="Redis: seconds to wait for an answer."),
    )),
    ("Outbound delivery", (
        Env("WEBHOOK_RETRY_SCHEDULE", parse_schedule, DEFAULT_RETRY_SCHEDULE, doc="Seconds before each retry."),
        Env("WEBHOOK_RETRY_JITTER", number, 0.2, 0, 1, doc="Fraction of a retry's wait added or taken at random."),
        Env("WEBHOOK_RETRY_AFTER_MAX_SECONDS", number, 36000, 0, 30 * DAY, doc="Longest Retry-After honoured."),
        Env("WEBHOOK_TIMEOUT_SECONDS", int, 10, 1, MAX_TIMEOUT_SECONDS, doc="Default per-attempt deadline."),
        Env("WEBHOOK_MAX_PAYLOAD_BYTES", int, 256 * KB, 1, 100 * MB, doc="Larger payloads are refused (413)."),
        Env("WEBHOOK_RESPONSE_BODY_LIMIT_BYTES", int, 20 * KB, 0, 10 * MB, doc="Response body kept per attempt."),
        Env("WEBHOOK_ALLOWED_NETWORKS", parse_list,
            lambda config: EMBEDDED_ALLOWED_NETWORKS if _embedded(config) else (),
            doc="CIDRs outbound webhooks may reach despite the address rules (loopback when embedded)."),
        Env("WEBHOOK_SWEEP_GRACE_SECONDS", number, 60, 0, DAY, doc="How long past due before the sweep takes one."),
        Env("WEBHOOK_SWEEP_INTERVAL_SECONDS", number, 30, 0, DAY, doc="Sweep interval in workers (0: off)."),
        Env("WEBHOOK_LEASE_MARGIN_SECONDS", number, 30, 0, 3600,
            doc="A claimed delivery's lease is its timeout plus this margin."),
        Env("WORKER_THREADS", int, 8, 1, 256, doc="Embedded worker threads."),
        Env("WEBHOOK_BREAKER_THRESHOLD", int, 5, 1, 100_000,
            doc="Consecutive failures that open an endpoint's circuit breaker."),
        Env("WEBHOOK_BREAKER_COOLDOWN_SECONDS", number, 60, 0, DAY, doc="How long an open breaker holds attempts."),
        Env("WEBHOOK_MAX_IN_FLIGHT", int, 4, 1, 1000,
            doc="Worker slots one endpoint may hold at once (its own max_in_flight overrides), so a slow partner "
                "never holds up the others."),
        Env("WEBHOOK_FAILING_MAX_IN_FLIGHT", int, 2, 1, 1000,
            doc="Worker slots a failing endpoint may hold at once, so it cannot hold every worker thread."),
        Env("WEBHOOK_AUTO_DISABLE_AFTER_SECONDS", number, 5 * DAY, 0, 365 * DAY,
            doc="An endpoint whose every attempt has failed for this long is disabled."),
        Env("WEBHOOK_ROTATION_GRACE_SECONDS", int, DAY, 0, MAX_ROTATION_GRACE_SECONDS,
            doc="Default grace during which a rotated-out secret still signs."),
    )),
    ("Inbound webhooks", (
        Env("INBOUND_MAX_BODY_BYTES", int, MB, 1, 100 * MB, doc="Largest body of POST /inbound/<source> (413)."),
        Env("INBOUND_HANDLER_MODULES", parse_list, (),
            doc="Host-app modules that register @inbound_handler, imported by create_app in web and workers."),
        Env("INBOUND_MAX_ATTEMPTS", int, 5, 1, 100, doc="Processings of an event before a failure is final."),
        Env("INBOUND_LEASE_SECONDS", number, 180, 1, DAY,
            doc="How long a worker holds an event it processes; after that the sweep takes it as lost."),
        Env("INBOUND_ALERT_FAILURES", int, 10, 1, 1_000_000, doc="Failed processings an hour that alert."),
        Env("INBOUND_ALERT_REJECTIONS", int, 20, 1, 1_000_000, doc="Signature rejections an hour that alert."),
    )),
    ("Producer API and monitor", (
        Env("API_BATCH_MAX_BYTES", int, 8 * MB, 1, 1024 * MB, doc="Largest body of POST /api/v1/messages/batch."),
        # Defaults of what admins may change on the Settings page (app.staff.settings), in its ranges.
        Env("MONITOR_RETRY_COOLDOWN_SECONDS", int, 300, 0, DAY, doc="Before a delivery may be retried by hand again."),
        Env("MONITOR_RETRY_HOURLY_CAP", int, 10, 0, 100_000, doc="Retry actions per person and hour (0: no cap)."),
        Env("MONITOR_REFRESH_SECONDS", int, 30, 5, 3600, doc="Between auto-refreshes of the monitor."),
        Env("EVENT_CATALOG_REQUIRED", env_bool, False,
            doc="Refuse (422) messages whose event type is not in the event catalog; off: accepted unchecked."),
        Env("SEARCH_PAYLOAD_PATHS", parse_list, DEFAULT_SEARCH_PAYLOAD_PATHS,
            doc="Payload fields (dotted JSON paths) indexed for the monitor's search, besides reference and tags."),
    )),
    ("Staff sign-in and sessions", (
        Env("SESSION_COOKIE_SECURE", env_bool, lambda config: not _embedded(config),
            doc="Secure cookies unless this is a laptop install served over plain http."),
        Env("SESSION_LIFETIME_SECONDS", int, 12 * 3600, 60, 366 * DAY, key="PERMANENT_SESSION_LIFETIME",
            doc="Longest a staff session lasts."),
        Env("PROXY_FIX_HOPS", int, _proxy_hops, 0, 10,
            doc="Proxy hops trusted for the client address and scheme: none unless set or on Heroku or Render."),
        Env("RATELIMIT_STORAGE_URI", default=_rate_limit_storage,
            doc="Where sign-in attempts are counted: Redis when that is the broker, else this process."),
        # Never per account alone, so a stranger cannot lock a person out.
        Env("LOGIN_RATE_LIMIT", default="20 per minute; 100 per hour", doc="Sign-in attempts per client address."),
        Env("LOGIN_ACCOUNT_RATE_LIMIT", default="10 per minute; 50 per hour",
            doc="Sign-in attempts per address and account."),
        Env("PASSWORD_CHANGE_RATE_LIMIT", default="5 per 15 minutes", doc="Password changes per signed-in person."),
    )),
    ("Alerts and email", (
        Env("ALERT_EMAIL_TO", parse_list, (), doc="Who gets alerts about failing, disabled and recovered endpoints."),
        Env("ALERT_WEBHOOK_URL", doc="Where alerts go as a JSON POST."),
        Env("SMTP_HOST", doc="The mail server alert emails go through (none: no email)."),
        Env("SMTP_PORT", int, 587, 1, 65535, doc="Its port."),
        Env("SMTP_USERNAME", doc="The account to sign in to it with, if any."),
        Env("SMTP_PASSWORD", doc="That account's password."),
        Env("SMTP_STARTTLS", env_bool, True, doc="Upgrade the connection with STARTTLS."),
        Env("SMTP_FROM", default="hookyard@localhost", doc="The sender of alert emails."),
        Env("ALERT_EMAIL_LANGUAGE", email_language, "en",
            doc="The language of endpoint alert, digest and test alert emails to an address that is not a member of "
                "staff who chose one: en or vi."),
        # Defaults of the alert rules (Settings page, in its ranges): success rate under a threshold over a window,
        # with a minimum volume, and a backlog whose oldest pending delivery is overdue by this many minutes.
        Env("ALERT_SUCCESS_RATE_PERCENT", number, 90, 0, 100, doc="Alert under this success rate."),
        Env("ALERT_WINDOW_MINUTES", int, 60, 5, 1440, doc="Over this many minutes."),
        Env("ALERT_MIN_ATTEMPTS", int, 20, 1, 100_000, doc="Once this many attempts were made in the window."),
        Env("ALERT_BACKLOG_MINUTES", int, 15, 1, 10_080, doc="Alert when the oldest pending delivery is this late."),
        Env("SHOP_NAME", default="",
            doc="The shop's name in the partner portal and in partner emails (Settings page; empty: none)."),
        Env("PORTAL_PARTNER_LINK_SECONDS", int, 86400, 300, 7 * DAY,
            doc="How long the view-only portal link in a partner's email stays valid."),
        Env("PORTAL_PARTNER_EMAIL_INTERVAL_SECONDS", int, 3600, 0, DAY,
            doc="At most one email to an endpoint's partner contact in this many seconds."),
        Env("FINAL_FAILURE_ALERT_QUIET_MINUTES", int, 15, 1, 10_080,
            doc="An endpoint alerting on every final failure alerts at most once in this many minutes."),
        Env("OPERATIONAL_CACHE_SECONDS", number, 5, 0, 3600,
            doc="How long a process trusts what it read of the operational endpoints (a change waits this long)."),
        Env("DIGEST_EMAIL_TO", parse_list, (), doc="Who gets the daily digest (default: ALERT_EMAIL_TO)."),
        Env("DIGEST_HOUR_UTC", int, 6, 0, 23, doc="The UTC hour the daily digest goes out."),
    )),
    ("Operating it", (
        Env("METRICS_TOKEN", doc="A bearer token Prometheus may scrape /metrics with (or a read-scoped API key)."),
        Env("SOURCE_VERSION", also=("RENDER_GIT_COMMIT", "HEROKU_SLUG_COMMIT"),
            doc="The deployed git commit, as the platforms name it; `git rev-parse` is asked when none is set."),
        Env("PUBLIC_URL", without_trailing_slash, "", also=("RENDER_EXTERNAL_URL",),
            doc="Where staff reach Hookyard, for links in alert emails."),
        Env("HEALTH_TIMEOUT_SECONDS", number, 2, 0.1, 60, doc="How long /healthz waits for database and broker."),
        Env("LOG_FORMAT", default="text", doc="json: one JSON object per log line; anything else: plain text."),
        Env("PAYLOAD_RETENTION_DAYS", int, 7, 1, 3650,
            doc="Payloads, response bodies and request headers older than this are purged (Settings page: 7 or 30)."),
        Env("RECORD_RETENTION_DAYS", int, 90, 1, 3650, doc="Messages, deliveries and attempts older are deleted."),
        Env("RETENTION_BATCH_SIZE", int, 1000, 1, 1_000_000, doc="Rows deleted per retention statement."),
        # How often worker processes run their periodic work (heartbeat, snapshot, alert rules).
        Env("PERIODIC_TICK_SECONDS", number, 10, 0.1, 3600, doc="Between two looks at what is due."),
        Env("SNAPSHOT_INTERVAL_SECONDS", number, 30, 0.1, DAY, doc="Between two metric snapshots."),
        Env("ALERT_INTERVAL_SECONDS", number, 60, 0.1, DAY, doc="Between two checks of the alert rules."),
        Env("WEB_ALERT_INTERVAL_SECONDS", number, 60, 0, DAY,
            doc="Between two checks of the alerts the web process raises (no worker, unprocessed, silent); 0: off."),
        Env("NO_WORKER_ALERT_SECONDS", int, 120, 30, DAY, doc="Alert when no worker heartbeat came for this long."),
        Env("INBOUND_UNPROCESSED_ALERT_MINUTES", int, 10, 1, 10_080,
            doc="Alert when received inbound events wait unprocessed this long."),
        Env("WORKER_SCHEMA_WAIT_SECONDS", number, 900, 0, DAY,
            doc="How long a starting worker waits for the migrations its code needs before it exits."),
    )),
)
#: The same rows in one tuple.
SETTINGS = tuple(setting for _, rows in SECTIONS for setting in rows)


class Config:
    """Settings for a running instance, read from the environment when created."""

    SESSION_COOKIE_HTTPONLY = REMEMBER_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = REMEMBER_COOKIE_SAMESITE = "Lax"
    #: With Redis unreachable, count sign-ins in this process instead of refusing every one (one log line).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    WEBHOOK_MAX_TIMEOUT_SECONDS = MAX_TIMEOUT_SECONDS
    WEBHOOK_ROTATION_MAX_GRACE_SECONDS = MAX_ROTATION_GRACE_SECONDS

    def __init__(self, environ=None, role=None):
        """Read the settings from environ (default os.environ) for a process of role: "web", "worker" or None."""
        self.environ = os.environ if environ is None else environ
        if role == "web" and not (self.environ.get("BROKER_URL") or self.environ.get("REDIS_URL")):
            role = None  # the embedded default: the web process runs the worker threads too
        #: What this process is (wsgi.py: web, tasks/worker.py: worker, None: commands and the embedded default).
        self.PROCESS_ROLE = role
        for setting in SETTINGS:
            setattr(self, setting.config_key, setting.read(self.environ, self))
        self.DATABASE_CONNECT_TIMEOUT_SECONDS = max(self.DATABASE_CONNECT_TIMEOUT_SECONDS, MIN_CONNECT_TIMEOUT_SECONDS)
        #: Names this process's connections in pg_stat_activity: hookyard-web, hookyard-worker or hookyard.
        self.DATABASE_APPLICATION_NAME = "hookyard-" + role if role else "hookyard"
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(self.SQLALCHEMY_DATABASE_URI, self)
        self.EMBEDDED = _embedded(self)
        # IMPORTANT: only PostgreSQL notifies, and only the broker's workers listen (not the embedded worker).
        self.WEBHOOK_WAKE_BY_NOTIFY = self.WEBHOOK_WAKE_BY_NOTIFY and _notify_relay(self)
        self.MAX_CONTENT_LENGTH = self.WEBHOOK_MAX_PAYLOAD_BYTES + 64 * 1024
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE

    def redis_url(self, url):
        """url with this instance's Redis timeouts (see redis_url)."""
        return redis_url(url, connect_timeout=self.REDIS_CONNECT_TIMEOUT_SECONDS,
                         socket_timeout=self.REDIS_SOCKET_TIMEOUT_SECONDS)


class TestConfig(Config):
    """Settings for the test suite: test services only, fast retries, loopback receivers allowed.

    Production variables (PRODUCTION_VARIABLES) are ignored so a test can never touch them; TEST_DATABASE_URL and
    TEST_REDIS_URL select PostgreSQL and Redis.
    """

    def __init__(self, environ=None, database_url=None):
        source = os.environ if environ is None else environ
        env = {k: v for k, v in source.items() if k not in PRODUCTION_VARIABLES}
        env["DATABASE_URL"] = database_url or source.get("TEST_DATABASE_URL") or "sqlite://"
        env["BROKER_URL"] = source.get("TEST_REDIS_URL", "")
        env.setdefault("WEBHOOK_RETRY_SCHEDULE", "0.05,0.05,0.05,0.05,0.05,0.05,0.05")
        env.setdefault("WEBHOOK_ALLOWED_NETWORKS", ",".join(EMBEDDED_ALLOWED_NETWORKS))
        super().__init__(env)
        self.TESTING = True
        self.SECRET_KEY = "test-secret-key"
        self.SECRETS_ENCRYPTION_KEY = TEST_ENCRYPTION_KEY
        self.WEBHOOK_RETRY_JITTER = 0.0
        self.WEBHOOK_LEASE_MARGIN_SECONDS = 2
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.SESSION_COOKIE_SECURE = False
        self.WEBHOOK_BREAKER_COOLDOWN_SECONDS = 0.5
        self.BROKER_HANDOFF_IN_BACKGROUND = False  # a test joins the broker right after a request
        self.WEBHOOK_WAKE_BY_NOTIFY = False  # a test joins the broker after a commit (tests/conftest: wake_by_notify)
        self.WEBHOOK_WAKE_TIMER = False  # a test joins the broker after a commit (tests/conftest: wake_timer)
