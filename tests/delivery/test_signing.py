import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from app.credentials.signatures import generate_secret
from app.delivery.attempt import signing
from app.models import SigningScheme

BODY = b'{"order":1001,"note":"caf\xc3\xa9"}'


def test_generated_secret_is_whsec_with_32_random_bytes():
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    assert generate_secret() != secret


def test_standard_signature_verifies_with_standardwebhooks():
    secret = generate_secret()
    now = int(datetime.now(UTC).timestamp())
    headers = signing.sign(SigningScheme.STANDARD, [secret], "msg_1", now, BODY)
    assert Webhook(secret).verify(BODY, headers) == {"order": 1001, "note": "café"}


def test_standard_signature_fails_for_another_secret_or_body():
    secret, other = generate_secret(), generate_secret()
    now = int(datetime.now(UTC).timestamp())
    headers = signing.sign(SigningScheme.STANDARD, [secret], "msg_1", now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", headers)


def test_two_secrets_give_two_signatures_each_verifying():
    new, old = generate_secret(), generate_secret()
    now = int(datetime.now(UTC).timestamp())
    headers = signing.sign(SigningScheme.STANDARD, [new, old], "msg_1", now, BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        Webhook(secret).verify(BODY, headers)


def test_shared_secret_scheme_sends_the_secret_header():
    headers = signing.sign(SigningScheme.SHARED_SECRET, ["whsec_abc"], "msg_1", 1700000000, BODY)
    assert headers[signing.SHARED_SECRET_HEADER] == "whsec_abc"
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"


def test_hmac_scheme_signs_the_body_in_hex():
    headers = signing.sign(SigningScheme.HMAC_SHA256, ["s3cret"], "msg_1", 1700000000, BODY)
    expected = hmac.new(b"s3cret", BODY, hashlib.sha256).hexdigest()
    assert headers[signing.HMAC_HEADER] == f"sha256={expected}"
