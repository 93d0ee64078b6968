"""Preview an endpoint's payload format: the body and content type it would receive for an event, made as an
attempt makes it (nothing is written or sent)."""

from flask_babel import lazy_gettext as _l

from app.delivery import formats
from app.delivery.endpoints.service import get_endpoint
from app.delivery.message_rules import check_message
from app.errors import InvalidInput
from app.models import PayloadFormat, utcnow

#: The message id a preview's event carries.
PREVIEW_ID = "msg_preview"


def preview_body(endpoint_id, event_type, payload, *, reference=None, tags=None):
    """Return (body text, content type) the endpoint would receive for this event; raise NotFound, or
    InvalidInput for a bad event or a body its format cannot make (the template's error)."""
    endpoint = get_endpoint(endpoint_id)
    new = check_message(event_type, payload, reference=reference, tags=tags)
    if endpoint.payload_format in (None, PayloadFormat.STANDARD):
        return new.body, "application/json"
    variables = formats.event_variables(event_type=new.event_type, message_id=PREVIEW_ID, created_at=utcnow(),
                                        reference=new.reference, tags=new.tags, payload=new.payload)
    try:
        body = formats.render_body(endpoint.payload_format, endpoint.payload_content_type, endpoint.payload_template,
                                   variables)
    except formats.TemplateFailed as exc:
        raise InvalidInput(_l("payload format %(payload_format)s: %(message)s",
                              payload_format=endpoint.payload_format.value, message=exc.message),
                           field="payload_template") from None
    return body.decode("utf-8", "replace"), endpoint.payload_content_type.value
