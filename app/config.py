"""Every setting, read from the environment with its default. Nothing else reads os.environ."""

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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

#: Variables that Heroku (DYNO) and Render (RENDER) set in every process behind their one-hop router.
PLATFORM_ROUTER_VARIABLES = ("DYNO", "RENDER")

#: Seconds Redis may take to accept a connection, and to answer a command (broker, rate limits), by default.
REDIS_CONNECT_TIMEOUT_SECONDS = 2
REDIS_SOCKET_TIMEOUT_SECONDS = 5
#: A PostgreSQL client stops waiting this long after the server's own statement timeout should have fired:
#: a frozen server or a network that drops packets never answers at all (see app.database).
DATABASE_CLIENT_MARGIN_SECONDS = 2
#: PostgreSQL connections each process keeps (DB_POOL_SIZE) and may open beyond them (DB_MAX_OVERFLOW), by the
#: process's role. Sized so the Procfile's defaults (2 web + 2 worker processes, a release or console) stay within
#: the 20 connections of Heroku's smallest plan (essential-0): see the README's "Connection budget".
POOL_DEFAULTS = {"web": (2, 1), "worker": (3, 1), None: (5, 5)}
#: Largest DB_POOL_SIZE and DB_MAX_OVERFLOW accepted.
MAX_POOL_CONNECTIONS = 100
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


def bounded_int(env, name, default, low, high):
    """Read an integer setting and check it lies in [low, high]; raise ValueError naming it otherwise."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}, got {value}")
    return value


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


def proxy_fix_hops(env):
    """Return how many proxies' X-Forwarded-* headers to trust: PROXY_FIX_HOPS when set, else 1 on Heroku or
    Render (whose router sets them), else 0.

    A gunicorn reached directly must trust nobody's X-Forwarded-For, or anyone can forge the address the
    sign-in limits count and the audit log records.
    """
    raw = env.get("PROXY_FIX_HOPS", "").strip()
    if raw:
        hops = int(raw)
        if hops < 0:
            raise ValueError(f"PROXY_FIX_HOPS must be 0 or more, got {raw!r}")
        return hops
    return 1 if any(env.get(name) for name in PLATFORM_ROUTER_VARIABLES) else 0


def parse_schedule(raw):
    """Parse a comma-separated list of seconds such as "5,300,1800"."""
    if not raw:
        return list(DEFAULT_RETRY_SCHEDULE)
    try:
        delays = [float(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds, got {raw!r}") from None
    if not delays or any(delay < 0 for delay in delays):
        raise ValueError(f"WEBHOOK_RETRY_SCHEDULE must list one or more non-negative delays, got {raw!r}")
    return delays


def parse_list(raw, default=()):
    """Split a comma-separated setting into a list of stripped, non-empty items."""
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


class Config:
    """Settings for a running instance, read from the environment when created."""

    def __init__(self, environ=None, role=None):
        """Read the settings from environ (default os.environ) for a process of role: "web", "worker" or None."""
        env = os.environ if environ is None else environ
        if role == "web" and not (env.get("BROKER_URL") or env.get("REDIS_URL")):
            role = None  # the embedded default: the web process runs the worker threads too
        #: What this process is (wsgi.py: web, tasks/worker.py: worker, None: commands and the embedded default).
        self.PROCESS_ROLE = role
        #: Folder for the local SQLite database and generated keys (default: ./instance).
        self.HOOKYARD_INSTANCE_PATH = env.get("HOOKYARD_INSTANCE_PATH") or None
        self.SECRET_KEY = env.get("SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = database_url(env.get("DATABASE_URL"))
        #: PostgreSQL: seconds to connect (at least 2), per statement, waiting for a lock, waiting for a pooled
        #: connection. Past them a request answers 503 instead of hanging (see app.outages).
        self.DATABASE_CONNECT_TIMEOUT_SECONDS = max(int(env.get("DATABASE_CONNECT_TIMEOUT_SECONDS", "5")), 2)
        self.DATABASE_STATEMENT_TIMEOUT_SECONDS = float(env.get("DATABASE_STATEMENT_TIMEOUT_SECONDS", "30"))
        self.DATABASE_LOCK_TIMEOUT_SECONDS = float(env.get("DATABASE_LOCK_TIMEOUT_SECONDS", "10"))
        self.DATABASE_POOL_TIMEOUT_SECONDS = float(env.get("DATABASE_POOL_TIMEOUT_SECONDS", "10"))
        #: PostgreSQL: connections this process keeps open and may add under load (defaults: POOL_DEFAULTS).
        pool_size, max_overflow = POOL_DEFAULTS.get(role, POOL_DEFAULTS[None])
        self.DB_POOL_SIZE = bounded_int(env, "DB_POOL_SIZE", pool_size, 1, MAX_POOL_CONNECTIONS)
        self.DB_MAX_OVERFLOW = bounded_int(env, "DB_MAX_OVERFLOW", max_overflow, 0, MAX_POOL_CONNECTIONS)
        #: Names this process's connections in pg_stat_activity: hookyard-web, hookyard-worker or hookyard.
        self.DATABASE_APPLICATION_NAME = "hookyard-" + role if role else "hookyard"
        #: PostgreSQL, within a web request: seconds per statement and lock, and (plus half a second) for any answer
        #: at all; POST /inbound/<source> gets its own shorter bound, under Shopify's 5 s. Past them: 503.
        self.DATABASE_REQUEST_TIMEOUT_SECONDS = float(env.get("DATABASE_REQUEST_TIMEOUT_SECONDS", "5"))
        self.INBOUND_DATABASE_TIMEOUT_SECONDS = float(env.get("INBOUND_DATABASE_TIMEOUT_SECONDS", "3"))
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(self.SQLALCHEMY_DATABASE_URI, self)
        #: redis://, rediss:// or amqp:// selects the broker; empty means the embedded default.
        self.BROKER_URL = env.get("BROKER_URL") or env.get("REDIS_URL") or ""
        self.EMBEDDED = not self.BROKER_URL
        #: A web request's committed work goes to the broker from a background thread (app.handoff), so a
        #: slow or frozen broker never holds a request; the sweep sends what it could not. Off: sent before answering.
        self.BROKER_HANDOFF_IN_BACKGROUND = env.get("BROKER_HANDOFF_IN_BACKGROUND",
                                                    "0" if self.EMBEDDED else "1") == "1"
        #: Redis (broker and rate limits): seconds to connect and to wait for an answer.
        self.REDIS_CONNECT_TIMEOUT_SECONDS = float(env.get("REDIS_CONNECT_TIMEOUT_SECONDS",
                                                           str(REDIS_CONNECT_TIMEOUT_SECONDS)))
        self.REDIS_SOCKET_TIMEOUT_SECONDS = float(env.get("REDIS_SOCKET_TIMEOUT_SECONDS",
                                                          str(REDIS_SOCKET_TIMEOUT_SECONDS)))
        #: Fernet key(s), comma-separated, newest first; encrypts endpoint secrets at rest.
        self.SECRETS_ENCRYPTION_KEY = env.get("SECRETS_ENCRYPTION_KEY")
        self.WEBHOOK_RETRY_SCHEDULE = parse_schedule(env.get("WEBHOOK_RETRY_SCHEDULE"))
        self.WEBHOOK_RETRY_JITTER = float(env.get("WEBHOOK_RETRY_JITTER", "0.2"))
        self.WEBHOOK_RETRY_AFTER_MAX_SECONDS = float(env.get("WEBHOOK_RETRY_AFTER_MAX_SECONDS", "36000"))
        self.WEBHOOK_TIMEOUT_SECONDS = int(env.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
        self.WEBHOOK_MAX_TIMEOUT_SECONDS = MAX_TIMEOUT_SECONDS
        self.WEBHOOK_MAX_PAYLOAD_BYTES = int(env.get("WEBHOOK_MAX_PAYLOAD_BYTES", str(256 * 1024)))
        self.WEBHOOK_RESPONSE_BODY_LIMIT_BYTES = int(env.get("WEBHOOK_RESPONSE_BODY_LIMIT_BYTES", "20480"))
        default_networks = EMBEDDED_ALLOWED_NETWORKS if self.EMBEDDED else ()
        self.WEBHOOK_ALLOWED_NETWORKS = parse_list(env.get("WEBHOOK_ALLOWED_NETWORKS"), default_networks)
        self.WEBHOOK_SWEEP_GRACE_SECONDS = float(env.get("WEBHOOK_SWEEP_GRACE_SECONDS", "60"))
        self.WEBHOOK_SWEEP_INTERVAL_SECONDS = float(env.get("WEBHOOK_SWEEP_INTERVAL_SECONDS", "30"))
        #: A claimed delivery's lease is its timeout plus this margin.
        self.WEBHOOK_LEASE_MARGIN_SECONDS = float(env.get("WEBHOOK_LEASE_MARGIN_SECONDS", "30"))
        self.WORKER_THREADS = int(env.get("WORKER_THREADS", "8"))
        #: Consecutive failures that open an endpoint's circuit breaker, and how long it then holds attempts.
        self.WEBHOOK_BREAKER_THRESHOLD = int(env.get("WEBHOOK_BREAKER_THRESHOLD", "5"))
        self.WEBHOOK_BREAKER_COOLDOWN_SECONDS = float(env.get("WEBHOOK_BREAKER_COOLDOWN_SECONDS", "60"))
        #: Attempts in flight at once to an endpoint that is failing, so it cannot hold every worker thread.
        self.WEBHOOK_FAILING_MAX_IN_FLIGHT = int(env.get("WEBHOOK_FAILING_MAX_IN_FLIGHT", "2"))
        #: An endpoint whose every attempt has failed for this long is disabled (default 5 days).
        self.WEBHOOK_AUTO_DISABLE_AFTER_SECONDS = float(env.get("WEBHOOK_AUTO_DISABLE_AFTER_SECONDS", "432000"))
        #: Default and longest grace period during which a rotated-out secret still signs.
        self.WEBHOOK_ROTATION_GRACE_SECONDS = int(env.get("WEBHOOK_ROTATION_GRACE_SECONDS", "86400"))
        self.WEBHOOK_ROTATION_MAX_GRACE_SECONDS = MAX_ROTATION_GRACE_SECONDS
        # Alerts about failing, disabled and recovered endpoints: email and/or a notification URL.
        self.ALERT_EMAIL_TO = parse_list(env.get("ALERT_EMAIL_TO"))
        self.ALERT_WEBHOOK_URL = env.get("ALERT_WEBHOOK_URL") or None
        self.SMTP_HOST = env.get("SMTP_HOST") or None
        self.SMTP_PORT = int(env.get("SMTP_PORT", "587"))
        self.SMTP_USERNAME = env.get("SMTP_USERNAME") or None
        self.SMTP_PASSWORD = env.get("SMTP_PASSWORD") or None
        self.SMTP_STARTTLS = env.get("SMTP_STARTTLS", "1") == "1"
        self.SMTP_FROM = env.get("SMTP_FROM", "hookyard@localhost")
        # Defaults for what admins may change on the settings page (app.staff.settings).
        self.MONITOR_RETRY_COOLDOWN_SECONDS = int(env.get("MONITOR_RETRY_COOLDOWN_SECONDS", "300"))
        self.MONITOR_RETRY_HOURLY_CAP = int(env.get("MONITOR_RETRY_HOURLY_CAP", "10"))
        self.MONITOR_REFRESH_SECONDS = int(env.get("MONITOR_REFRESH_SECONDS", "30"))
        #: Payload fields (dotted JSON paths) indexed for the monitor's search, besides reference and tags.
        self.SEARCH_PAYLOAD_PATHS = parse_list(env.get("SEARCH_PAYLOAD_PATHS"), DEFAULT_SEARCH_PAYLOAD_PATHS)
        self.MAX_CONTENT_LENGTH = self.WEBHOOK_MAX_PAYLOAD_BYTES + 64 * 1024
        #: Largest inbound webhook body (POST /inbound/<source>); a larger one is refused (413) unread.
        self.INBOUND_MAX_BODY_BYTES = int(env.get("INBOUND_MAX_BODY_BYTES", str(1024 * 1024)))
        #: Modules of the host app that register inbound handlers (@inbound_handler), imported by create_app in the
        #: web and worker processes alike, e.g. "docs.examples.shopify_product_sold". None by default.
        self.INBOUND_HANDLER_MODULES = parse_list(env.get("INBOUND_HANDLER_MODULES"))
        #: Processings of an inbound event before a failure is final (retries wait WEBHOOK_RETRY_SCHEDULE's steps).
        self.INBOUND_MAX_ATTEMPTS = int(env.get("INBOUND_MAX_ATTEMPTS", "5"))
        #: How long a worker holds an inbound event it processes; after that the sweep takes it as lost.
        self.INBOUND_LEASE_SECONDS = float(env.get("INBOUND_LEASE_SECONDS", "180"))
        #: Largest body of POST /api/v1/messages/batch (each of its messages still within the payload limit).
        self.API_BATCH_MAX_BYTES = int(env.get("API_BATCH_MAX_BYTES", str(8 * 1024 * 1024)))
        # Staff sessions: secure cookies unless this is a laptop install served over plain http.
        secure = env.get("SESSION_COOKIE_SECURE", "0" if self.EMBEDDED else "1") == "1"
        self.SESSION_COOKIE_SECURE = self.REMEMBER_COOKIE_SECURE = secure
        self.SESSION_COOKIE_HTTPONLY = self.REMEMBER_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.PERMANENT_SESSION_LIFETIME = int(env.get("SESSION_LIFETIME_SECONDS", str(12 * 3600)))
        #: Proxy hops to trust for the client address and scheme: none unless set or on Heroku or Render.
        self.PROXY_FIX_HOPS = proxy_fix_hops(env)
        #: Where sign-in attempts are counted: Redis when that is the broker, else this process.
        redis_broker = self.BROKER_URL.startswith(("redis://", "rediss://"))
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI") or (
            self.redis_url(self.BROKER_URL) if redis_broker else "memory://")
        #: With Redis unreachable, count in this process instead of refusing every sign-in (one log line).
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        #: Sign-in attempts per client address, and per address and account (never per account alone, so a
        #: stranger cannot lock a person out); password changes per signed-in person.
        self.LOGIN_RATE_LIMIT = env.get("LOGIN_RATE_LIMIT", "20 per minute; 100 per hour")
        self.LOGIN_ACCOUNT_RATE_LIMIT = env.get("LOGIN_ACCOUNT_RATE_LIMIT", "10 per minute; 50 per hour")
        self.PASSWORD_CHANGE_RATE_LIMIT = env.get("PASSWORD_CHANGE_RATE_LIMIT", "5 per 15 minutes")
        # Operating it: health, metrics, retention, rule alerts, digest, heartbeats, logs.
        #: A bearer token Prometheus may scrape /metrics with (an API key with the read scope works too).
        self.METRICS_TOKEN = env.get("METRICS_TOKEN") or None
        #: The deployed git commit, as the platforms name it; `git rev-parse` is asked when none is set.
        self.SOURCE_VERSION = (env.get("SOURCE_VERSION") or env.get("RENDER_GIT_COMMIT")
                               or env.get("HEROKU_SLUG_COMMIT") or None)
        #: Where staff reach Hookyard, for links in alert emails (Render sets RENDER_EXTERNAL_URL).
        self.PUBLIC_URL = (env.get("PUBLIC_URL") or env.get("RENDER_EXTERNAL_URL") or "").rstrip("/")
        #: How long /healthz waits for the database and the broker, in seconds.
        self.HEALTH_TIMEOUT_SECONDS = float(env.get("HEALTH_TIMEOUT_SECONDS", "2"))
        #: json: one JSON object per log line; anything else: plain text.
        self.LOG_FORMAT = env.get("LOG_FORMAT", "text")
        #: Payloads, response bodies and request headers older than this are purged (Settings page: 7 or 30).
        self.PAYLOAD_RETENTION_DAYS = int(env.get("PAYLOAD_RETENTION_DAYS", "7"))
        #: Messages, deliveries and attempts older than this are deleted.
        self.RECORD_RETENTION_DAYS = int(env.get("RECORD_RETENTION_DAYS", "90"))
        self.RETENTION_BATCH_SIZE = int(env.get("RETENTION_BATCH_SIZE", "1000"))
        #: Defaults of the alert rules (Settings page): success rate under a threshold over a window, with a
        #: minimum volume, and a backlog whose oldest pending delivery is overdue by this many minutes.
        self.ALERT_SUCCESS_RATE_PERCENT = float(env.get("ALERT_SUCCESS_RATE_PERCENT", "90"))
        self.ALERT_WINDOW_MINUTES = int(env.get("ALERT_WINDOW_MINUTES", "60"))
        self.ALERT_MIN_ATTEMPTS = int(env.get("ALERT_MIN_ATTEMPTS", "20"))
        self.ALERT_BACKLOG_MINUTES = int(env.get("ALERT_BACKLOG_MINUTES", "15"))
        #: An inbound source is failing from this many failed processings in the last hour, and rejecting (a wrong
        #: secret, usually) from this many requests refused for their signature in the last hour.
        self.INBOUND_ALERT_FAILURES = int(env.get("INBOUND_ALERT_FAILURES", "10"))
        self.INBOUND_ALERT_REJECTIONS = int(env.get("INBOUND_ALERT_REJECTIONS", "20"))
        #: Who gets the daily digest (default: ALERT_EMAIL_TO), and from which UTC hour it goes out.
        self.DIGEST_EMAIL_TO = parse_list(env.get("DIGEST_EMAIL_TO"))
        self.DIGEST_HOUR_UTC = int(env.get("DIGEST_HOUR_UTC", "6"))
        #: How often worker processes run their periodic work (heartbeat, snapshot, alert rules), in seconds.
        self.PERIODIC_TICK_SECONDS = float(env.get("PERIODIC_TICK_SECONDS", "10"))
        self.SNAPSHOT_INTERVAL_SECONDS = float(env.get("SNAPSHOT_INTERVAL_SECONDS", "30"))
        self.ALERT_INTERVAL_SECONDS = float(env.get("ALERT_INTERVAL_SECONDS", "60"))
        #: How long a starting worker waits for the migrations its code needs (Render may start new workers
        #: before the web's pre-deploy command has run them), in seconds; past it the worker exits.
        self.WORKER_SCHEMA_WAIT_SECONDS = float(env.get("WORKER_SCHEMA_WAIT_SECONDS", "900"))

    def redis_url(self, url):
        """url with this instance's Redis timeouts (see redis_url)."""
        return redis_url(url, connect_timeout=self.REDIS_CONNECT_TIMEOUT_SECONDS,
                         socket_timeout=self.REDIS_SOCKET_TIMEOUT_SECONDS)


class TestConfig(Config):
    """Settings for the test suite: test services only, fast retries, loopback receivers allowed.

    Production variables (DATABASE_URL, REDIS_URL, BROKER_URL) are ignored so a test can never touch
    them; TEST_DATABASE_URL and TEST_REDIS_URL select PostgreSQL and Redis.
    """

    def __init__(self, environ=None, database_url=None):
        source = os.environ if environ is None else environ
        env = {k: v for k, v in source.items() if k not in ("DATABASE_URL", "REDIS_URL", "BROKER_URL")}
        env["DATABASE_URL"] = database_url or source.get("TEST_DATABASE_URL") or "sqlite://"
        env["BROKER_URL"] = source.get("TEST_REDIS_URL", "")
        env.setdefault("WEBHOOK_RETRY_SCHEDULE", "0.05,0.05,0.05,0.05,0.05,0.05,0.05")
        env.setdefault("WEBHOOK_ALLOWED_NETWORKS", ",".join(EMBEDDED_ALLOWED_NETWORKS))
        super().__init__(env)
        self.TESTING = True
        self.SECRET_KEY = "test-secret-key"
        self.SECRETS_ENCRYPTION_KEY = "x3Lf0pNSSaJFbRiyKHOuwL4KT8H1NKNvY2MwYz8RAOQ="
        self.WEBHOOK_RETRY_JITTER = 0.0
        self.WEBHOOK_LEASE_MARGIN_SECONDS = 2
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.SESSION_COOKIE_SECURE = False
        self.WEBHOOK_BREAKER_COOLDOWN_SECONDS = 0.5
        self.BROKER_HANDOFF_IN_BACKGROUND = False  # a test joins the broker right after a request
