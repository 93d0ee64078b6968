"""Payload formats: the body an endpoint receives, made from a message at send time.

"standard" sends the message's payload as it is (nothing here runs). The presets (presets.py) and the template
(sandbox.py) see the same event: type, id, timestamp, reference, tags and data (the payload). A body that cannot
be made raises TemplateFailed, which the attempt records as a config error.
"""

import json
from urllib.parse import urlencode

from app.delivery.formats.presets import PRESETS
from app.delivery.formats.sandbox import TemplateFailed, compile_template, render  # noqa: F401  the public API
from app.models import PayloadContentType, PayloadFormat


def event_variables(*, event_type, message_id, created_at, reference, tags, payload):
    """The variables a preset or a template sees for one message."""
    return {"type": event_type, "id": message_id,
            "timestamp": created_at.isoformat().replace("+00:00", "Z") if created_at else None,
            "reference": reference, "tags": list(tags or []), "data": payload}


def _form_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def encode(document, content_type):
    """A preset's object as the body bytes: JSON, or form fields (objects and lists as JSON text)."""
    if content_type is PayloadContentType.FORM:
        return urlencode([(key, _form_value(value)) for key, value in document.items()]).encode()
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def render_body(payload_format, content_type, template, variables):
    """Return the body bytes an endpoint of this format receives for the event; raise TemplateFailed."""
    if payload_format is PayloadFormat.TEMPLATE:
        text = render(template or "", variables)
        if content_type is PayloadContentType.JSON:
            try:
                json.loads(text)
            except ValueError as exc:
                raise TemplateFailed(f"the template's output is not JSON ({exc}); write values with | tojson") \
                    from None
        return text.encode("utf-8", "surrogatepass")
    return encode(PRESETS[payload_format.value](variables), content_type)
