from datetime import timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from app.audit import Actor
from app.delivery.attempt.pipeline import attempt_delivery
from app.delivery.endpoints.rotation import rotate_secret
from app.errors import InvalidInput
from app.extensions import db
from app.models import AuditEntry, Endpoint, utcnow
from tests.support.factories import send

ADMIN = Actor("admin@example.com")


def deliver(app):
    _, (delivery_id,) = send(app, payload={"order": 1})
    with app.app_context():
        attempt_delivery(delivery_id)


def test_old_and_new_secrets_both_verify_during_the_grace_period(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    with app.app_context():
        _, new_secret = rotate_secret(endpoint.id, actor=ADMIN, grace_seconds=3600)
    assert new_secret != endpoint.secret and new_secret.startswith("whsec_")
    deliver(app)
    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (new_secret, endpoint.secret):
        assert Webhook(secret).verify(request.body, request.headers) == {"order": 1}


def test_the_old_secret_stops_signing_after_its_grace_period(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    with app.app_context():
        _, new_secret = rotate_secret(endpoint.id, actor=ADMIN, grace_seconds=3600)
        row = db.session.get(Endpoint, endpoint.id)
        row.retired_secrets = [{**row.retired_secrets[0], "expires_at": (utcnow() - timedelta(seconds=1)).isoformat()}]
        db.session.commit()
    deliver(app)
    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(request.body, request.headers)


def test_rotation_without_grace_replaces_at_once(app, make_endpoint, receiver):
    endpoint = make_endpoint()
    with app.app_context():
        _, new_secret = rotate_secret(endpoint.id, actor=ADMIN, grace_seconds=0)
    deliver(app)
    request = receiver.requests[0]
    Webhook(new_secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(request.body, request.headers)


@pytest.mark.parametrize("grace", [-1, 7 * 86400 + 1, "1h", True])
def test_grace_beyond_seven_days_or_malformed_is_refused(app, make_endpoint, grace):
    endpoint = make_endpoint()
    with app.app_context():
        with pytest.raises(InvalidInput, match="grace_seconds"):
            rotate_secret(endpoint.id, actor=ADMIN, grace_seconds=grace)
        assert db.session.get(Endpoint, endpoint.id).retired_secrets == []


def test_rotation_is_audited_without_any_secret(app, make_endpoint):
    endpoint = make_endpoint()
    with app.app_context():
        _, new_secret = rotate_secret(endpoint.id, actor=ADMIN)
        entry = db.session.query(AuditEntry).filter_by(action="endpoint.rotate_secret").one()
        assert entry.after == {"grace_seconds": 86400, "secrets_signing": 2}
        text = f"{entry.summary} {entry.before} {entry.after}"
        assert new_secret not in text and endpoint.secret not in text


def test_ten_old_secrets_at_most(app, make_endpoint):
    endpoint = make_endpoint()
    with app.app_context():
        for _ in range(10):
            rotate_secret(endpoint.id, actor=ADMIN, grace_seconds=60)
        with pytest.raises(InvalidInput, match="10 old secrets"):
            rotate_secret(endpoint.id, actor=ADMIN, grace_seconds=60)
        rotate_secret(endpoint.id, actor=ADMIN, grace_seconds=0)  # still possible without grace
