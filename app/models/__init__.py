"""The models, re-exported so callers import them from one place."""

from app.models.api_key import ApiKey
from app.models.attempt import AttemptTrigger, DeliveryAttempt, ErrorClass
from app.models.delivery import Delivery, DeliveryStatus
from app.models.endpoint import Endpoint, EndpointState, SigningScheme
from app.models.message import Message, MessageTag
from app.models.types import utcnow

__all__ = [
    "ApiKey",
    "AttemptTrigger",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "Endpoint",
    "EndpointState",
    "ErrorClass",
    "Message",
    "MessageTag",
    "SigningScheme",
    "utcnow",
]
