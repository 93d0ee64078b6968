"""The endpoint form: text fields a person types, turned into the settings the service validates.

Each field is named as the setting it edits (and the Endpoint attribute that holds it). A field typed as it is
stored (timeout_seconds, rate_limit_per_second, ...) needs nothing more than its line on EndpointForm: adding a
setting to the page is adding its field. CONVERSIONS lists the fields whose text is read or shown another way.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Form, IntegerField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, Optional

from app.credentials.masking import MASK
from app.errors import InvalidInput
from app.models import PayloadContentType, PayloadFormat
from app.staff.settings import get_setting


class EndpointForm(Form):
    url = URLField(_l("URL"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[Optional()])
    event_types = StringField(_l("Event types"),
                              description=_l("Comma-separated: order.created, order.* — empty for all"))
    signing = SelectField(_l("Signing"), choices=["standard", "shared-secret", "hmac-sha256"], default="standard")
    headers = TextAreaField(_l("Custom headers"), description=_l(
        "One per line: Name: value. Values are kept secret: "
        "leave a masked value as it is to keep it, or type a new one to replace it."))
    timeout_seconds = IntegerField(_l("Timeout (seconds, 1-30)"), default=10)
    max_attempts = IntegerField(_l("Max attempts"), default=lambda: len(get_setting("retry_schedule")) + 1)
    retry_schedule = StringField(_l("Retry schedule override"),
                                 description=_l("Seconds between attempts, e.g. 5,300,1800"))
    rate_limit_per_second = IntegerField(_l("Rate limit (per second)"), validators=[Optional()])
    max_in_flight = IntegerField(_l("Worker slots at most"), validators=[Optional()],
                                 description=_l("How many workers may send to this endpoint at once; empty for the "
                                             "default. Keeps a slow partner from holding up the others."))
    partner_email = StringField(_l("Partner contact email"), validators=[Optional()],
                                description=_l("Emailed a view-only portal link when the endpoint starts failing, is "
                                            "disabled or recovers"))
    payload_format = SelectField(_l("Payload format"), choices=[f.value for f in PayloadFormat], default="standard",
                                 description=_l("standard sends the payload as it is; zapier, make and convertkit "
                                             "shape it for that partner; template renders the template below."))
    payload_content_type = SelectField(_l("Body content type"), choices=[t.value for t in PayloadContentType],
                                       default=PayloadContentType.JSON.value,
                                       description=_l("For a preset or a template; standard always sends JSON."))
    payload_template = TextAreaField(_l("Payload template"), description=(
        _l("Jinja2, over type, id, timestamp, reference, tags and data (the payload); write values with | tojson, "
        'e.g. {"order_ref": {{ data.order | tojson }}}')))
    alert_on_failure = BooleanField(_l("Alert on every final failure"), description=(
        _l("E-mail (the alert channels) each time a delivery to it fails for good, at most once in "
        "FINAL_FAILURE_ALERT_QUIET_MINUTES (15): for endpoints with little traffic.")))
    ordering_failure = SelectField(
        _l("When an ordered delivery fails for good"), choices=[("hold", _l("hold its key until staff act")),
                                                            ("skip", _l("go on with the rest of its key"))],
        default="hold", description=_l("Messages sent with an ordering key reach this endpoint one after another. "
                                    "Hold keeps the rest of the key waiting until the failed one is retried, "
                                    "resolved or cancelled; skip sends them anyway."))


def _split(text):
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def parse_headers(text):
    """Lines of "Name: value" to a dict (a value left masked keeps the stored one: see rules.keep_masked)."""
    headers = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise InvalidInput(_l("headers, line %(number)s: write it as Name: value", number=number), field="headers")
        headers[name.strip()] = value.strip()
    return headers


def format_headers(names):
    """Header names as the form's text, each value masked: a value is replaced, never read back."""
    return "\n".join(f"{name}: {MASK}" for name in names)


def parse_schedule(text):
    """"5, 300" to [5.0, 300.0] (None when empty); raise InvalidInput for anything but numbers."""
    try:
        return [float(v) for v in _split(text)] or None
    except ValueError:
        raise InvalidInput(_l("retry schedule: write seconds separated by commas"), field="retry_schedule") from None


@dataclass(frozen=True)
class Conversion:
    """How one field's text becomes its setting (read) and how the endpoint's value is shown in it (show)."""

    read: object
    show: object
    #: The Endpoint attribute shown, when it is not named as the field.
    attribute: str = None


def _or_none(text):
    return text or None


CONVERSIONS = {
    "name": Conversion(_or_none, lambda value: value),
    "description": Conversion(_or_none, lambda value: value),
    "partner_email": Conversion(_or_none, lambda value: value),
    "event_types": Conversion(lambda text: _split(text) or None, lambda types: ", ".join(types or [])),
    "signing": Conversion(lambda text: text, lambda scheme: scheme.value),
    "ordering_failure": Conversion(lambda text: text, lambda policy: policy.value if policy else "hold"),
    "headers": Conversion(parse_headers, format_headers, attribute="header_names"),
    "payload_format": Conversion(lambda text: text, lambda member: member.value if member else "standard"),
    "payload_content_type": Conversion(lambda text: text,
                                       lambda member: (member or PayloadContentType.JSON).value),
    "payload_template": Conversion(_or_none, lambda value: value),
    "retry_schedule": Conversion(parse_schedule, lambda schedule: ",".join(f"{v:g}" for v in schedule or [])),
}
_AS_TYPED = Conversion(lambda data: data, lambda value: value)


def settings_from(form):
    """The service's settings from a submitted form; raises InvalidInput for text it cannot read."""
    return {field.name: CONVERSIONS.get(field.name, _AS_TYPED).read(field.data) for field in form}


def fill(form, endpoint):
    """Show an endpoint's settings in the form."""
    for field in form:
        conversion = CONVERSIONS.get(field.name, _AS_TYPED)
        field.data = conversion.show(getattr(endpoint, conversion.attribute or field.name))
