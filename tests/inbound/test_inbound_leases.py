from datetime import timedelta

from app.extensions import db
from app.inbound.processing import claim_event, record_failure
from app.inbound.sweep import sweep_inbound
from app.models import InboundAttempt, InboundEvent, InboundStatus, InboundTrigger, utcnow
from tests.inbound.sources_helpers import BODY, load_event, new_event, new_source


def test_a_late_worker_cannot_settle_a_later_claim_whose_lease_ends_at_the_same_moment(app):
    source_id, _ = new_source(app)
    event_id = new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY)
    an_hour_ago = utcnow() - timedelta(hours=1)
    with app.app_context():
        late = claim_event(event_id, InboundTrigger.RECEIVED, now=an_hour_ago)  # its worker stalls; the lease ends
        assert sweep_inbound(0).expired_leases == 1  # recorded lost, a retry scheduled
        db.session.get(InboundEvent, event_id).next_attempt_at = an_hour_ago - timedelta(hours=1)
        db.session.commit()
        # The retry is claimed with a lease ending exactly when the late worker's did: only the token tells them apart.
        retry = claim_event(event_id, InboundTrigger.RETRY, now=an_hour_ago)
        assert retry is not None and retry.number == 2
        assert record_failure(late, InboundTrigger.RECEIVED, an_hour_ago, 5, "the late worker's error") is None
        assert db.session.query(InboundAttempt).filter_by(event_id=event_id).count() == 1  # the lost one only
    event = load_event(app, event_id)
    assert (event.status, event.attempts) == (InboundStatus.PROCESSING, 2)  # still the retry's
