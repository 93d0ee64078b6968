"""The models, re-exported so callers import them from one place."""

from app.models.api_key import ApiKey
from app.models.attempt import AttemptTrigger, DeliveryAttempt, ErrorClass
from app.models.audit import AuditEntry
from app.models.branding import ShopLogo
from app.models.bulk_job import BulkJob, JobKind, JobStatus
from app.models.catalog import EventType, ReferenceLink
from app.models.change_token import ChangeToken
from app.models.delivery import TEST_EVENT, Delivery, DeliveryStatus
from app.models.endpoint import (
    RECEIVING_TOKEN,
    Endpoint,
    EndpointState,
    OrderingFailure,
    PayloadContentType,
    PayloadFormat,
    SigningScheme,
)
from app.models.inbound import (
    InboundAttempt,
    InboundCount,
    InboundEvent,
    InboundHandle,
    InboundRejection,
    InboundSource,
    InboundStatus,
    InboundTrigger,
    Provider,
    SourceState,
)
from app.models.message import Message, MessageHandle, MessageTag, OrderingKey
from app.models.ops import AlertState, MetricSample, PeriodicRun, WorkerHeartbeat
from app.models.portal import PortalLink
from app.models.setting import Setting
from app.models.staff_session import StaffSession
from app.models.types import utcnow
from app.models.user import Role, User

__all__ = [
    "AlertState",
    "ApiKey",
    "AttemptTrigger",
    "AuditEntry",
    "BulkJob",
    "ChangeToken",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "Endpoint",
    "EndpointState",
    "EventType",
    "ErrorClass",
    "InboundAttempt",
    "InboundCount",
    "InboundEvent",
    "InboundHandle",
    "InboundRejection",
    "InboundSource",
    "InboundStatus",
    "InboundTrigger",
    "JobKind",
    "JobStatus",
    "Message",
    "MessageHandle",
    "MessageTag",
    "OrderingFailure",
    "OrderingKey",
    "MetricSample",
    "PayloadContentType",
    "PayloadFormat",
    "PeriodicRun",
    "PortalLink",
    "RECEIVING_TOKEN",
    "ReferenceLink",
    "Provider",
    "Role",
    "Setting",
    "ShopLogo",
    "SigningScheme",
    "SourceState",
    "StaffSession",
    "TEST_EVENT",
    "User",
    "WorkerHeartbeat",
    "utcnow",
]
