from datetime import timedelta

from app.audit import Actor
from app.delivery.operations import bulk
from app.delivery.queries import DeliveryFilter
from app.models import BulkJob, Delivery, DeliveryStatus, InboundStatus, utcnow
from app.ops.periodic import get_run
from tasks.sweeper import Sweeper
from tests.inbound.sources_helpers import BODY, new_event, new_source
from tests.support.factories import send, update


def test_one_sweep_takes_every_kind_and_records_what_it_took_by_kind(app, make_endpoint, broker):
    make_endpoint()
    _, (delivery_id,) = send(app)
    update(app, Delivery, delivery_id, status=DeliveryStatus.SENDING, lease_token="lost",  # its worker died
           lease_expires_at=utcnow() - timedelta(seconds=1))
    with app.app_context():
        job_id = bulk.start_bulk_retry(DeliveryFilter(), actor=Actor("ops")).id
    update(app, BulkJob, job_id, touched_at=utcnow() - timedelta(minutes=10))
    source_id, _ = new_source(app)
    new_event(app, source_id, status=InboundStatus.RECEIVED, body=BODY, next_attempt_at=utcnow() - timedelta(hours=1))

    assert Sweeper(app, interval=0).sweep_once(grace_seconds=60).total == 3

    taken = {"deliveries": {"expired_leases": 1, "overdue": 0}, "bulk jobs": {"resumed_jobs": 1},
             "inbound events": {"expired_leases": 0, "overdue": 1}}
    with app.app_context():
        assert get_run("sweep").last_result == taken
