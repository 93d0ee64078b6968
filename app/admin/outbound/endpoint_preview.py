"""The endpoint page's payload preview: an event typed in, the body its payload format makes of it."""

import json

from app.delivery.endpoints.preview import preview_body
from app.errors import InvalidInput

#: The event the preview form starts with.
EXAMPLE_PAYLOAD = {"order": {"id": 1001, "name": "#1001", "email": "ada@example.com", "first_name": "Ada",
                             "total": "59.00"}}


def preview_form(endpoint):
    """The preview form's first values: an event type the endpoint receives and an example payload."""
    exact = [pattern for pattern in endpoint.event_types or [] if "*" not in pattern]
    return {"event_type": exact[0] if exact else "order.created", "payload": json.dumps(EXAMPLE_PAYLOAD, indent=2),
            "reference": "#1001", "tags": ""}


def run_preview(endpoint_id, form):
    """The form's values with the body and content type made, or the error saying why none could be."""
    shown = {name: form.get(name, "") for name in ("event_type", "payload", "reference", "tags")}
    try:
        payload = json.loads(shown["payload"])
    except ValueError as exc:
        return {**shown, "error": f"payload: not JSON ({exc})"}
    tags = [tag.strip() for tag in shown["tags"].split(",") if tag.strip()]
    try:
        body, content_type = preview_body(endpoint_id, shown["event_type"], payload,
                                          reference=shown["reference"] or None, tags=tags)
    except InvalidInput as exc:
        return {**shown, "error": exc.localized}
    return {**shown, "body": body, "content_type": content_type}
