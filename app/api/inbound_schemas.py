"""Request and response shapes of the inbound API (sources and events); they also make OpenAPI components."""

import base64
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, StrictBool, StrictInt, StrictStr, field_validator

from app.api.schemas import Note, OneLine, Out, Prose, Strict, grace_seconds
from app.inbound import source_rules as rules
from app.models import Provider, SourceState
from app.text import HEADER_NAME

ProviderName = Literal[tuple(p.value for p in Provider)]
StateName = Literal[tuple(s.value for s in SourceState)]
Secret = Annotated[StrictStr, Field(pattern=rules.SECRET.pattern)]


class ZohoOptions(Strict):
    token_header: StrictStr | None = Field(None, pattern=HEADER_NAME.pattern,
                                           description="The header the shared token comes in (default Authorization)")
    event_id_field: StrictStr | None = Field(None, pattern=rules.JSON_PATH.pattern, description=(
        "Dotted JSON path of the event id in the body (e.g. data.event_id); without it, a hash of the body"))


class ShopifyOptions(Strict):
    shops: list[Annotated[StrictStr, Field(pattern=rules.SHOP_DOMAIN.pattern)]] | None = Field(
        None, max_length=rules.MAX_SHOPS, description=(
            "The shop domains (X-Shopify-Shop-Domain) the source accepts; others are refused with 403 unknown_shop. "
            "None listed: any shop. The header is not signed: this sorts shops, it does not authenticate them"))


OptionText = Annotated[StrictStr, Field(pattern=rules.OPTION_TEXT.pattern)]


class GenericOptions(Strict):
    signature_header: StrictStr = Field(pattern=HEADER_NAME.pattern, description="The header carrying the signature")
    algorithm: Literal["sha1", "sha256", "sha512"] = Field("sha256", description="The HMAC's hash function")
    encoding: Literal["hex", "base64"] = Field("hex", description="How the signature is written")
    prefix: OptionText | None = Field(None, max_length=50, description='Before the signature, e.g. "sha256=" or "v0="')
    signed: Literal["body", "timestamp_body"] = Field("body", description=(
        "What is signed: the raw body, or content_prefix + the timestamp header + separator + the body"))
    timestamp_header: StrictStr | None = Field(None, pattern=HEADER_NAME.pattern, description=(
        "signed timestamp_body: the header with the Unix time, checked within tolerance_seconds both ways"))
    content_prefix: OptionText | None = Field(None, max_length=50, description='e.g. "v0:" for Slack')
    separator: OptionText | None = Field(None, max_length=10, description='Between timestamp and body (default ".")')
    event_id_header: StrictStr | None = Field(None, pattern=HEADER_NAME.pattern)
    event_id_path: StrictStr | None = Field(None, pattern=rules.JSON_PATH.pattern, description=(
        "Where the event id is (a header or a dotted JSON path); neither: the SHA-256 of the body"))
    topic_header: StrictStr | None = Field(None, pattern=HEADER_NAME.pattern)
    topic_path: StrictStr | None = Field(None, pattern=rules.JSON_PATH.pattern)


class SourceSettings(Strict):
    description: Prose | None = Field(None, max_length=2000)
    forward: StrictBool | None = Field(None, description=(
        'Turn each verified, new event into an outbound message "inbound.<name>.<topic with / as .>", delivered '
        'only to endpoints whose filter names the inbound. namespace. Setting it to true needs messages:write too'))
    tolerance_seconds: StrictInt | None = Field(
        None, ge=rules.MIN_TOLERANCE_SECONDS, le=rules.MAX_TOLERANCE_SECONDS,
        description="Largest age of a signed timestamp accepted (Stripe, Standard Webhooks; default 300)")
    options: GenericOptions | ZohoOptions | ShopifyOptions | None = Field(None, description=(
        "Zoho: its token header and event id field; Shopify: the shops it accepts; generic: how its sender signs. "
        "Other providers take none"))
    silence_alert_minutes: StrictInt | None = Field(
        None, ge=rules.MIN_SILENCE_MINUTES, le=rules.MAX_SILENCE_MINUTES,
        description="Alert (raised by the web process, no worker needed) when no request has been accepted for "
                    "this many minutes; null: never")


class SourceIn(SourceSettings):
    name: StrictStr = Field(pattern=rules.NAME.pattern, description="URL-safe and unique: the URL is /inbound/<name>")
    provider: ProviderName
    secret: Secret | None = Field(None, description=(
        "The provider's signing secret (Shopify, Stripe whsec_...) or the Zoho token; generated and shown once "
        "when left out"))


class SourcePatch(SourceSettings):
    """Only the fields sent change; null clears description. Name and provider are fixed."""

    state: StateName | None = Field(None, description="paused holds events unprocessed; disabled answers 404")
    state_reason: OneLine | None = Field(None, max_length=500)


class SourceRotateIn(Strict):
    grace_seconds: StrictInt | None = grace_seconds("verifying")
    secret: Secret | None = Field(None, description="The new secret the provider shows; generated when left out")


class MarkProcessedIn(Strict):
    note: Note = Field(description="Why the event needs no processing (e.g. it was handled by hand)")


class SourceOut(Out):
    id: str
    name: str
    provider: str
    url: str = Field(validation_alias=AliasChoices("url_path", "url"),
                     description="The path to give the provider, on this host")
    description: str | None
    forward: bool
    tolerance_seconds: int
    options: dict
    silence_alert_minutes: int | None = None
    state: str
    state_reason: str | None
    state_changed_at: datetime | None
    secret_created_at: datetime
    created_at: datetime


class SourceListOut(BaseModel):
    data: list[SourceOut]


class SourceCreatedOut(SourceOut):
    secret: str | None = Field(None, description="The generated secret, shown only in this response; absent when "
                                                 "the secret was given")


class SourceDeletedOut(BaseModel):
    id: str
    deleted: bool
    events_deleted: int = Field(description="Events of the source deleted with it")


class InboundAttemptOut(Out):
    number: int
    trigger: str
    triggered_by: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_ms: int | None
    outcome: str
    error: str | None


class InboundEventOut(Out):
    id: str
    source_id: str
    provider_event_id: str
    provider_event_ref: str | None
    topic: str | None
    status: str
    received_at: datetime
    attempt_count: int = Field(description="Processing attempts made")
    last_error: str | None
    next_attempt_at: datetime | None
    processed_at: datetime | None
    duplicate_count: int = Field(description="Repeated requests of this event, answered 200 and not processed")
    last_duplicate_at: datetime | None
    content_type: str | None
    body_bytes: int
    body_purged_at: datetime | None
    forwarded_message_id: str | None
    replayed_at: datetime | None
    replayed_by: str | None
    settled_by: str | None
    settled_note: str | None


class InboundEventDetailOut(InboundEventOut):
    headers: dict[str, str] = Field(description="Request headers; signatures and tokens show as ••••")
    body: str | None = Field(description="The raw body as received: text, or base64 when it is not UTF-8; null "
                                         "once retention purged it")
    body_encoding: Literal["utf-8", "base64"] | None
    attempts: list[InboundAttemptOut]

    @field_validator("headers", mode="before")
    @classmethod
    def _text(cls, headers):
        return {str(name): str(value) for name, value in (headers or {}).items()}


def body_text(raw):
    """Return (text, encoding) of a raw body: UTF-8 text as it is, anything else in base64; (None, None) when gone."""
    if raw is None:
        return None, None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode(), "base64"


class InboundEventPageOut(BaseModel):
    data: list[InboundEventOut]
    page: int
    per_page: int
    has_more: bool
