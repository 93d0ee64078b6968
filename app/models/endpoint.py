"""Endpoint: a subscriber URL with its secret, signing scheme, filter, limits and health."""

import enum

from sqlalchemy import DDL, JSON, Boolean, Integer, String, Text, event
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.change_token import TOKEN_FUNCTION
from app.models.types import UTCDateTime, enum_column, new_id, utcnow


class SigningScheme(enum.Enum):
    STANDARD = "standard"
    SHARED_SECRET = "shared-secret"
    HMAC_SHA256 = "hmac-sha256"


class PayloadFormat(enum.Enum):
    """The shape of the body an endpoint receives (app.delivery.formats)."""

    STANDARD = "standard"
    ZAPIER = "zapier"
    MAKE = "make"
    CONVERTKIT = "convertkit"
    TEMPLATE = "template"


class PayloadContentType(enum.Enum):
    JSON = "application/json"
    FORM = "application/x-www-form-urlencoded"


class EndpointState(enum.Enum):
    ENABLED = "enabled"
    PAUSED = "paused"
    DISABLED = "disabled"


class OrderingFailure(enum.Enum):
    """What a delivery that failed for good does to the later deliveries of its ordering key."""

    HOLD = "hold"  # they wait until staff retry, resolve or cancel it
    SKIP = "skip"  # they go on


class Endpoint(db.Model):
    __tablename__ = "endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("ep"))
    url: Mapped[str] = mapped_column(String(2048))
    name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    #: Event-type patterns ("order.created", "order.*"); None or empty receives every event.
    event_types: Mapped[list | None] = mapped_column(JSON)
    signing: Mapped[SigningScheme] = mapped_column(enum_column(SigningScheme), default=SigningScheme.STANDARD)
    #: Fernet token of the current secret; see app.credentials.crypto.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    secret_created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    #: Secrets replaced by a rotation that still sign until they expire: [{"secret": token, "expires_at": iso}].
    retired_secrets: Mapped[list] = mapped_column(JSON, default=list)
    #: Extra request headers {name: Fernet token of the value}: every value is a credential, encrypted at rest
    #: like the secret and never shown (app.credentials.crypto.encrypt_headers / decrypt_headers).
    headers_encrypted: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The body's shape: the message's payload as it is (standard), a partner's preset, or payload_template.
    payload_format: Mapped[PayloadFormat] = mapped_column(enum_column(PayloadFormat), default=PayloadFormat.STANDARD,
                                                          server_default=PayloadFormat.STANDARD.value)
    #: A Jinja2 template rendering the body (payload_format "template"), in a sandbox (app.delivery.formats).
    payload_template: Mapped[str | None] = mapped_column(Text)
    #: The Content-Type of a preset's or a template's body; the standard format always sends JSON.
    payload_content_type: Mapped[PayloadContentType] = mapped_column(
        enum_column(PayloadContentType, length=40), default=PayloadContentType.JSON,
        server_default=PayloadContentType.JSON.value)
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=10)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    #: Seconds between attempts for this endpoint; None uses WEBHOOK_RETRY_SCHEDULE.
    retry_schedule: Mapped[list | None] = mapped_column(JSON)
    #: At most this many attempts per second across all workers; None is unlimited.
    rate_limit_per_second: Mapped[int | None] = mapped_column(Integer)
    #: At most this many claims of the endpoint's deliveries in flight at once (worker slots it may hold), across
    #: all workers; None uses WEBHOOK_MAX_IN_FLIGHT. So a slow partner cannot occupy every worker.
    max_in_flight: Mapped[int | None] = mapped_column(Integer)
    ordering_failure: Mapped[OrderingFailure] = mapped_column(
        enum_column(OrderingFailure), default=OrderingFailure.HOLD, server_default=OrderingFailure.HOLD.value)
    state: Mapped[EndpointState] = mapped_column(enum_column(EndpointState), default=EndpointState.ENABLED)
    state_reason: Mapped[str | None] = mapped_column(String(500))
    state_changed_at = mapped_column(UTCDateTime)
    state_changed_by: Mapped[str | None] = mapped_column(String(254))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_success_at = mapped_column(UTCDateTime)
    last_failure_at = mapped_column(UTCDateTime)
    #: Start of the current unbroken run of failures (None while healthy).
    failing_since = mapped_column(UTCDateTime)
    #: Consecutive failures saying the endpoint is unreachable or broken (timeouts, connection errors, 5xx,
    #: 429); at WEBHOOK_BREAKER_THRESHOLD they open the breaker. A 4xx answer means it is up: back to 0.
    breaker_failures: Mapped[int] = mapped_column(Integer, default=0)
    #: While in the future, the circuit breaker holds new attempts; the first one after it is the probe.
    breaker_open_until = mapped_column(UTCDateTime)
    #: The last alert sent about this endpoint ("failing", "disabled" or "paused"); None once recovered.
    alerted: Mapped[str | None] = mapped_column(String(16))
    #: Who runs the endpoint: gets an email with a view-only portal link when it fails, is disabled or recovers.
    partner_email: Mapped[str | None] = mapped_column(String(254))
    #: When the partner was last emailed (app.portal.partner_mail): at most one email per interval.
    partner_emailed_at = mapped_column(UTCDateTime)
    #: An operational endpoint receives Hookyard's own events (app.delivery.operational), never partner messages.
    operational: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    #: Alert staff (the alert channels) on every delivery to it that fails for good, at most once a quiet period.
    alert_on_failure: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    #: When the last such alert went out: the quiet period runs from here.
    failure_alerted_at = mapped_column(UTCDateTime)
    deleted_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    @property
    def header_names(self):
        """The custom header names, in order (their values stay encrypted)."""
        return list(self.headers_encrypted or {})

    def __repr__(self):
        return f"<Endpoint {self.id} {self.url}>"


#: The change token (app.models.change_token) replaced whenever which endpoints receive new messages may have changed.
RECEIVING_TOKEN = "receiving_endpoints"


#: PostgreSQL: what replaces RECEIVING_TOKEN: an endpoint added, deleted (rows or the whole table), or one of the
#: columns the receiving endpoints are read by changed (which, their filters, their order). Not a health write, which
#: is most writes to an endpoint. The migration that made them so (a1d4c9e27b53) holds the same statements.
RECEIVING_TRIGGERS = (
    TOKEN_FUNCTION,
    f"""CREATE TRIGGER receiving_rows AFTER INSERT OR DELETE OR TRUNCATE ON endpoints
    FOR EACH STATEMENT EXECUTE FUNCTION hookyard_token_changed('{RECEIVING_TOKEN}')""",
    f"""CREATE TRIGGER receiving_columns AFTER UPDATE ON endpoints FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
          OR OLD.operational IS DISTINCT FROM NEW.operational OR OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.id IS DISTINCT FROM NEW.id OR OLD.event_types::text IS DISTINCT FROM NEW.event_types::text)
    EXECUTE FUNCTION hookyard_token_changed('{RECEIVING_TOKEN}')""",
)

for _statement in RECEIVING_TRIGGERS:  # with the table, as the migrations make them (tests create tables directly)
    event.listen(Endpoint.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
