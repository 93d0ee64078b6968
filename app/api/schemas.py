"""Request and response shapes of the public API; they also make the OpenAPI components.

Request models state the product's rules as far as JSON Schema can (lengths, ranges, patterns), so the
published contract refuses what the product refuses; the domain checks the rest (addresses, reserved
header names) and answers 422 too.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    field_validator,
)

from app.config import MAX_ROTATION_GRACE_SECONDS, MAX_TIMEOUT_SECONDS
from app.credentials.masking import MASK
from app.delivery import matching, operational
from app.delivery.endpoints import rules
from app.delivery.formats.sandbox import MAX_TEMPLATE_CHARS
from app.errors import InvalidInput
from app.search import MOMENT, parse_moment
from app.text import MAX_NOTE_LENGTH, NOTE_PATTERN, TEXT_LINE_PATTERN, TEXT_PROSE_PATTERN

#: One line of text: no control character and no lone surrogate (see app.text).
OneLine = Annotated[StrictStr, Field(pattern=TEXT_LINE_PATTERN)]
#: Prose: tabs and line breaks allowed, no other control character.
Prose = Annotated[StrictStr, Field(pattern=TEXT_PROSE_PATTERN)]
#: A note left when settling something by hand: prose, not blank.
Note = Annotated[StrictStr, Field(min_length=1, max_length=MAX_NOTE_LENGTH, pattern=NOTE_PATTERN)]
#: An http(s) URL without spaces or control characters (the address rules are checked when it is saved).
URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20\x7f]+$"
Url = Annotated[StrictStr, Field(pattern=URL_PATTERN, max_length=2048)]
EventPattern = Annotated[StrictStr, Field(pattern=matching.PATTERN.pattern, max_length=200)]
#: Custom headers: JSON Schema states the name rule with propertyNames (pydantic would leave other names open).
Headers = Annotated[
    dict[Annotated[str, Field(pattern=rules.HEADER_NAME.pattern)],
         Annotated[StrictStr, Field(pattern=rules.HEADER_VALUE.pattern)]],
    Field(max_length=rules.MAX_HEADERS),
    WithJsonSchema({"type": "object", "maxProperties": rules.MAX_HEADERS,
                    "propertyNames": {"pattern": rules.HEADER_NAME.pattern},
                    "additionalProperties": {"type": "string", "pattern": rules.HEADER_VALUE.pattern}}),
]
Delay = Annotated[float, Field(strict=True, ge=1, le=rules.MAX_SCHEDULE_DELAY_SECONDS)]
Tag = Annotated[OneLine, Field(min_length=1, max_length=200)]

#: What a person is told when a value does not match one of the patterns above.
PATTERN_MESSAGES = {
    TEXT_LINE_PATTERN: "must be one line without control characters",
    TEXT_PROSE_PATTERN: "must not contain control characters",
    NOTE_PATTERN: "must be a note that is not blank and holds no control characters",
    URL_PATTERN: "must be an http:// or https:// URL without spaces",
    matching.PATTERN.pattern: "must be an event type, a 'prefix.*' wildcard or '*'",
    matching.EVENT_TYPE.pattern: "must be dot-separated names of letters, digits, '_' or '-' (e.g. order.created)",
    rules.HEADER_NAME.pattern: "is not a valid header name",
    rules.HEADER_VALUE.pattern: "must be one line of printable ASCII, at most 4096 characters",
}
Handle = Annotated[OneLine, Field(min_length=1, max_length=200)]
PayloadFormatName = Literal["standard", "zapier", "make", "convertkit", "template"]
PayloadContentTypeName = Literal["application/json", "application/x-www-form-urlencoded"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EndpointSettings(Strict):
    name: OneLine | None = Field(None, max_length=200)
    description: Prose | None = Field(None, max_length=2000)
    event_types: list[EventPattern] | None = Field(
        None, description='Event types to receive: exact names or "order.*" wildcards; omitted means all'
    )
    headers: Headers | None = Field(
        None,
        description="Extra request headers, replacing the ones stored; Host, Content-*, webhook-* and the like "
                    f"are refused. Values are secret: answers show {MASK}, and a value sent back as {MASK} keeps "
                    "the one stored"
    )
    timeout_seconds: StrictInt | None = Field(None, ge=1, le=MAX_TIMEOUT_SECONDS,
                                              description="Per-attempt total deadline in seconds (default 10)")
    max_attempts: StrictInt | None = Field(None, ge=1, le=rules.MAX_ATTEMPTS,
                                           description="Automatic attempts before failing (default 8)")
    retry_schedule: list[Delay] | None = Field(None, min_length=1, max_length=rules.MAX_SCHEDULE_STEPS,
                                               description="Seconds between attempts, overriding the default")
    rate_limit_per_second: StrictInt | None = Field(None, ge=1, le=rules.MAX_RATE_LIMIT,
                                                    description="Attempts per second at most; null is no limit")
    max_in_flight: StrictInt | None = Field(
        None, ge=1, le=rules.MAX_IN_FLIGHT,
        description="Worker slots this endpoint may hold at once, across all workers, so a slow endpoint never "
                    "holds up the others; null uses the server's default (WEBHOOK_MAX_IN_FLIGHT, 4)")
    partner_email: Annotated[StrictStr, Field(pattern=rules.EMAIL.pattern, max_length=254)] | None = Field(
        None, description="Who runs the endpoint: emailed a view-only portal link when it starts failing, is "
                          "disabled or recovers")
    payload_format: PayloadFormatName | None = Field(None, description=(
        "The body's shape: standard (the payload as it is), a partner preset (zapier, make, convertkit) or template "
        "(payload_template renders it); the signature covers the body actually sent"))
    payload_content_type: PayloadContentTypeName | None = Field(
        None, description="Content-Type of a preset's or a template's body (standard always sends JSON)")
    payload_template: StrictStr | None = Field(None, max_length=MAX_TEMPLATE_CHARS, description=(
        "A Jinja2 template (sandboxed) over type, id, timestamp, reference, tags and data (the payload), with a "
        "tojson filter, e.g. {\"order_ref\": {{ data.order | tojson }}}; refused with 422 when it does not compile"))
    alert_on_failure: StrictBool | None = Field(
        None, description="Alert staff (ALERT_EMAIL_TO, ALERT_WEBHOOK_URL) on every delivery that fails for good, "
                          "at most once in FINAL_FAILURE_ALERT_QUIET_MINUTES (default 15)")
    ordering_failure: Literal["hold", "skip"] | None = Field(
        None, description="What a delivery with an ordering key that failed for good does to the later ones of "
                          "its key: hold (the default) keeps them waiting until staff retry, resolve or cancel it; "
                          "skip lets them go on")


class EndpointIn(EndpointSettings):
    url: Url = Field(description="http(s) URL that receives the webhooks")
    signing: Literal["standard", "shared-secret", "hmac-sha256"] = "standard"


class EndpointPatch(EndpointSettings):
    """Only the fields sent change; null clears an optional one."""

    url: Url | None = None
    signing: Literal["standard", "shared-secret", "hmac-sha256"] | None = None
    state: Literal["enabled", "paused", "disabled"] | None = None
    state_reason: OneLine | None = Field(None, max_length=500)


OperationalEventType = Literal[tuple(operational.EVENT_TYPES)]


class OperationalEndpointSettings(Strict):
    name: OneLine | None = Field(None, max_length=200)
    description: Prose | None = Field(None, max_length=2000)
    event_types: list[OperationalEventType] | None = Field(
        None, min_length=1, description="Operational event types to receive (exact names); omitted or null means all")
    alert_on_failure: StrictBool | None = Field(
        None, description="Alert staff on every event to it that fails for good (at most once a quiet period)")


class OperationalEndpointIn(OperationalEndpointSettings):
    url: Url = Field(description="http(s) URL that receives Hookyard's own events, signed as Standard Webhooks")


class OperationalEndpointPatch(OperationalEndpointSettings):
    """Only the fields sent change; null clears an optional one."""

    url: Url | None = None
    state: Literal["enabled", "paused", "disabled"] | None = None
    state_reason: OneLine | None = Field(None, max_length=500)


def grace_seconds(what):
    """The field of a rotation's grace period: how long the old secret keeps doing what (signing, verifying)."""
    return Field(None, ge=0, le=MAX_ROTATION_GRACE_SECONDS, description=f"How long the old secret keeps {what} "
                                                                      "(default 24 h)")


class RotateIn(Strict):
    grace_seconds: StrictInt | None = grace_seconds("signing")


class RecoverIn(Strict):
    since: Annotated[datetime, WithJsonSchema({"type": "string", "pattern": MOMENT.pattern})] = Field(
        description="Retry failed deliveries created at or after this time (UTC unless it names an offset)")
    dry_run: StrictBool = Field(False, description="Only count them")

    @field_validator("since", mode="before")
    @classmethod
    def _moment(cls, value):
        try:
            return parse_moment(value, "since") if isinstance(value, str) else parse_moment("", "since")
        except InvalidInput as exc:
            raise ValueError(exc.message) from None


class DeletedOut(BaseModel):
    id: str
    deleted: bool
    cancelled_deliveries: int = Field(description="Pending deliveries cancelled because force was given")


class RecoverOut(BaseModel):
    count: int
    job_id: str | None = None


class MessageIn(Strict):
    event_type: StrictStr = Field(pattern=matching.EVENT_TYPE.pattern, max_length=200,
                                  description="Dot-separated event name, e.g. order.created")
    payload: dict = Field(description="JSON object sent as the request body")
    reference: Handle | None = Field(None, description="A handle staff search by, e.g. an order number")
    tags: list[Tag] | None = Field(None, max_length=50,
                                   description="Further handles, e.g. a QR code or a Shopify order id")
    idempotency_key: Handle | None = Field(None, description="The same key again returns the first message")
    endpoint_ids: list[Annotated[OneLine, Field(max_length=64)]] | None = Field(
        None, description="Send only to these endpoints")
    deliver_at: AwareDatetime | None = Field(None, description=(
        "Send the deliveries at this time instead of at once (ISO 8601 with a time zone, at most 30 days ahead, "
        "not more than 5 minutes past); until then they are pending, held as \"scheduled\""))
    ordering_key: Handle | None = Field(None, description=(
        "Messages with the same key reach each endpoint one after another, in the order they were created: the "
        "next is not sent until the previous one succeeded or ended (failed for good, cancelled or resolved; "
        "what a failure does to the rest of the key is the endpoint's ordering_failure). Each carries its place "
        "in the key in a webhook-sequence header. Other keys and messages without one are never held up."))


class PreviewIn(Strict):
    event_type: StrictStr = Field(pattern=matching.EVENT_TYPE.pattern, max_length=200,
                                  description="Dot-separated event name, e.g. order.created")
    payload: dict = Field(description="The event's JSON payload")
    reference: Handle | None = None
    tags: list[Tag] | None = Field(None, max_length=50)


class PreviewOut(BaseModel):
    body: str = Field(description="The body the endpoint would receive, exactly as it would be signed")
    content_type: str


class ResendIn(Strict):
    payload: dict = Field(description="The edited JSON object to send as a new message, linked to the original")


class ResolveIn(Strict):
    note: Note = Field(description="Why the failure needs nothing more")


class MessageBatchIn(Strict):
    messages: list[dict] = Field(min_length=1, max_length=500, description=(
        "1 to 500 messages, each exactly the body of POST /messages. Each is accepted or refused on its own: a "
        "refused one writes nothing and does not stop the others."))


class RetryIn(Strict):
    restart_schedule: StrictBool = Field(
        False, description="Start the automatic retry schedule afresh instead of making one attempt"
    )


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, use_enum_values=True)


class EndpointOut(Out):
    id: str
    url: str
    name: str | None
    description: str | None
    event_types: list[str] | None
    signing: str
    headers: dict[str, str] = Field(validation_alias=AliasChoices("header_names", "headers"),
                                    description=f"Custom header names; every value shows as {MASK}")
    timeout_seconds: int
    max_attempts: int
    retry_schedule: list[float] | None
    rate_limit_per_second: int | None
    max_in_flight: int | None
    partner_email: str | None
    payload_format: str
    payload_content_type: str
    payload_template: str | None
    ordering_failure: str
    state: str
    state_reason: str | None
    state_changed_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None
    breaker_open_until: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    secret_created_at: datetime
    created_at: datetime
    operational: bool = Field(False, description="It receives Hookyard's own events, never partner messages")
    alert_on_failure: bool = Field(False, description="Staff are alerted on every delivery that fails for good")

    @field_validator("headers", mode="before")
    @classmethod
    def _mask(cls, names):
        return dict.fromkeys(names, MASK)


class EndpointListOut(BaseModel):
    data: list[EndpointOut]


class OperationalEventTypeOut(BaseModel):
    name: str
    description: str


class OperationalEventTypesOut(BaseModel):
    data: list[OperationalEventTypeOut]


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(description="Shown only in this response; keep it to verify signatures")


class DeliverySummaryOut(Out):
    id: str
    endpoint_id: str
    status: str


class MessageOut(Out):
    id: str
    event_type: str
    payload: dict
    reference: str | None
    tags: list[str]
    idempotency_key: str | None
    created_at: datetime
    deliver_at: datetime | None = Field(None, description="When its deliveries are scheduled to go; null: at once")
    ordering_key: str | None = None
    ordering_sequence: int | None = Field(None, description=(
        "The message's place among its ordering key's messages, sent as the webhook-sequence header: increasing, "
        "it may skip a number"))
    deliveries: list[DeliverySummaryOut]
    resent_from_id: str | None = Field(None, description="The message this one was resent from, edited")


class MessageBatchItemOut(BaseModel):
    """One message of a batch: the message as POST /messages answers it, or why it was refused."""

    index: int = Field(description="The message's position in the request")
    id: str | None = None
    event_type: str | None = None
    payload: dict | None = None
    reference: str | None = None
    tags: list[str] | None = None
    idempotency_key: str | None = None
    created_at: datetime | None = None
    deliver_at: datetime | None = None
    ordering_key: str | None = None
    ordering_sequence: int | None = None
    deliveries: list[DeliverySummaryOut] | None = None
    created: bool | None = Field(None, description="False when its idempotency key returned an earlier message")
    error: str | None = Field(None, description="Why this message was refused (nothing of it was written)")
    field: str | None = None
    status: int | None = Field(None, description="The status a single POST /messages would have answered")


class MessageBatchOut(BaseModel):
    messages: list[MessageBatchItemOut]


class AttemptOut(Out):
    number: int
    trigger: str
    triggered_by: str | None
    started_at: datetime
    duration_ms: int
    request_url: str
    request_body: str | None = Field(None, description=(
        "The body sent, when the endpoint's payload format made it (null: the message's payload as it is)"))
    response_status: int | None
    error_class: str | None
    error: str | None
    will_retry: bool
    next_attempt_at: datetime | None


class DeliveryOut(Out):
    id: str
    message_id: str
    endpoint_id: str
    event_type: str
    status: str
    attempt_count: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_response_status: int | None
    last_error_class: str | None
    last_error: str | None
    created_at: datetime
    ordering_key: str | None = None
    ordering_sequence: int | None = Field(None, description="Its place in its ordering key (webhook-sequence)")
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolved_note: str | None = None


class DeliveryDetailOut(DeliveryOut):
    attempts: list[AttemptOut]


class DeliveryPageOut(BaseModel):
    data: list[DeliveryOut]
    page: int
    per_page: int
    has_more: bool


class StatsOut(BaseModel):
    deliveries: dict[str, int] = Field(description="Count of deliveries in each status")
    queue_depth: int | None = Field(description="Messages waiting in the broker (ready + delayed)")
    oldest_overdue_pending_seconds: float = Field(description="How long the most overdue pending delivery waits")


class WorkerOut(BaseModel):
    host: str
    pid: int
    version: str
    threads: int
    queues: list[str]
    started_at: str
    last_seen_at: str


class QueueOut(BaseModel):
    name: str
    depth: int | None = Field(description="Messages waiting (ready and delayed); null when the broker does not say")
    delayed: int | None = Field(description="Of those, waiting for their delay to pass")


class RunOut(BaseModel):
    name: str = Field(description="sweep, snapshot, alerts, retention or digest")
    last_started_at: str | None
    last_finished_at: str | None
    result: dict | None
    error: str | None
    running_on: str | None = None


class SystemOut(BaseModel):
    at: str
    version: dict = Field(description='{"web": version, "workers": [versions]}')
    workers: list[WorkerOut] = Field(description="Worker processes with a recent heartbeat")
    queues: list[QueueOut]
    oldest_pending_seconds: float
    runs: list[RunOut]
    warnings: list[dict] = Field(
        description='[{"kind": "no-worker", "version-drift" or "broker-eviction", "text": ...}]')


class ErrorOut(BaseModel):
    error: str = Field(description="What went wrong, for a person to read")
    field: str | None = Field(None, description="The input field at fault, when there is one")
