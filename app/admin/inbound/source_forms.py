"""The inbound source forms: what a person types, turned into what app.inbound.sources validates.

A secret is typed twice (a paste that lost a character would reject every webhook) or left blank to be
generated; either way it is never put back into a page once the form is sent."""

import json

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Form, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from app.checks import parse_json_object
from app.errors import InvalidInput
from app.models import Provider

#: What a person reads when the two entries of a secret differ.
MISMATCH = _l("The two entries of the secret differ; nothing was changed. Type or paste it again in both fields.")


class SourceForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired()],
                       description=_l("Lower-case letters, digits, '-' or '_': the URL becomes /inbound/<name>; it "
                                      "cannot change later."))
    provider = SelectField(_l("Provider"), choices=[p.value for p in Provider], default="shopify")
    description = TextAreaField(_l("Description"), validators=[Optional()])
    secret = PasswordField(_l("Secret"), description=_l("Shopify and Stripe show theirs: paste it. Leave both fields "
                                                        "blank to have one generated (shown once)."))
    secret_again = PasswordField(_l("Secret again"))
    tolerance_seconds = IntegerField(_l("Timestamp tolerance (seconds, Stripe and Standard Webhooks)"), default=300)
    forward = BooleanField(_l("Forward each event as an outbound message (inbound.<name>.<topic>)"))
    token_header = StringField(_l("Zoho: header carrying the token"), validators=[Optional()],
                               description=_l("Zoho only; default Authorization."))
    event_id_field = StringField(_l("Zoho: JSON field holding the event id"), validators=[Optional()],
                                 description=_l("Zoho only, e.g. id or data.event_id; without it an event's id is a "
                                                "hash of its body."))
    shops = StringField(_l("Shopify: shops accepted"), validators=[Optional()],
                        description=_l("Shopify only: comma-separated shop domains (my-store.myshopify.com); empty "
                                       "accepts any shop."))
    generic_options = TextAreaField(_l("Generic: how the sender signs (JSON)"), validators=[Optional()], description=(
        _l('Generic only, e.g. {"signature_header": "X-Slack-Signature", "algorithm": "sha256", "encoding": "hex", '
        '"prefix": "v0=", "signed": "timestamp_body", "timestamp_header": "X-Slack-Request-Timestamp", '
        '"content_prefix": "v0:", "separator": ":"}. See README, "Other providers".')))


class SettingsForm(Form):
    description = TextAreaField(_l("Description"), validators=[Optional()])
    tolerance_seconds = IntegerField(_l("Timestamp tolerance (seconds)"), validators=[Optional()])
    token_header = StringField(_l("Zoho: header carrying the token"), validators=[Optional()])
    event_id_field = StringField(_l("Zoho: JSON field holding the event id"), validators=[Optional()])
    shops = StringField(_l("Shopify: shops accepted (comma-separated; empty: any)"), validators=[Optional()])
    generic_options = TextAreaField(_l("Generic: how the sender signs (JSON)"), validators=[Optional()])


def typed_secret(first, second):
    """The secret typed twice, or None when both are blank (generate one); raise InvalidInput when they differ."""
    first, second = (first or "").strip(), (second or "").strip()
    if first != second:
        raise InvalidInput(MISMATCH, field="secret_again")
    return first or None


def zoho_options(form):
    """Provider options from the Zoho fields; {} when neither is filled."""
    options = {}
    if (form.token_header.data or "").strip():
        options["token_header"] = form.token_header.data.strip()
    if (form.event_id_field.data or "").strip():
        options["event_id_field"] = form.event_id_field.data.strip()
    return options


def options_of(provider, form):
    """The provider options the form's fields give (a field of another provider filled in is passed on, to be
    refused by name rather than ignored)."""
    provider, options = Provider(provider), zoho_options(form)
    shops = [shop.strip() for shop in (form.shops.data or "").split(",") if shop.strip()]
    if shops:
        options["shops"] = shops
    if provider is Provider.GENERIC or (form.generic_options.data or "").strip():
        options.update(parse_json_object(form.generic_options.data or "{}", "generic_options", _l("Generic options")))
    return options


def create_arguments(form):
    """The keyword arguments of create_source from a sent form; raise InvalidInput for what it cannot read."""
    if form.tolerance_seconds.data is None:
        raise InvalidInput(_l("tolerance_seconds must be a whole number from 1 to 86400"), field="tolerance_seconds")
    return {"name": (form.name.data or "").strip(), "provider": form.provider.data,
            "description": (form.description.data or "").strip() or None,
            "secret": typed_secret(form.secret.data, form.secret_again.data),
            "tolerance_seconds": form.tolerance_seconds.data, "forward": bool(form.forward.data),
            "options": options_of(form.provider.data, form)}


def settings_changes(form, source):
    """The update_source changes of a sent settings form (options only for the providers that take some)."""
    changes = {"description": (form.description.data or "").strip() or None}
    if form.tolerance_seconds.data is not None:
        changes["tolerance_seconds"] = form.tolerance_seconds.data
    elif form.tolerance_seconds.raw_data and form.tolerance_seconds.raw_data[0].strip():
        raise InvalidInput(_l("tolerance_seconds must be a whole number from 1 to 86400"), field="tolerance_seconds")
    if source.provider in (Provider.ZOHO, Provider.SHOPIFY, Provider.GENERIC):
        changes["options"] = options_of(source.provider, form)
    return changes


def fill(form, source):
    """Show a source's settings in the settings form."""
    form.description.data, form.tolerance_seconds.data = source.description, source.tolerance_seconds
    form.token_header.data = (source.options or {}).get("token_header")
    form.event_id_field.data = (source.options or {}).get("event_id_field")
    form.shops.data = ", ".join((source.options or {}).get("shops") or [])
    if source.provider is Provider.GENERIC:
        form.generic_options.data = json.dumps(source.options or {}, indent=2)
