from app.models import InboundStatus
from tests.inbound.sources_helpers import load_event, new_event, new_source

DAY = 86_400


def test_retention_purges_old_settled_inbound_bodies_in_batches(app, runner):
    source_id, _ = new_source(app)
    old = [new_event(app, source_id, status=status, age_seconds=8 * DAY)
           for status in (InboundStatus.PROCESSED, InboundStatus.IGNORED, InboundStatus.FAILED)]
    held = new_event(app, source_id, status=InboundStatus.RECEIVED, age_seconds=8 * DAY)
    retrying = new_event(app, source_id, status=InboundStatus.FAILED, age_seconds=8 * DAY,
                         next_attempt_at=load_event(app, old[0]).received_at)
    recent = new_event(app, source_id, status=InboundStatus.PROCESSED, age_seconds=6 * DAY)

    result = runner.invoke(args=["retention", "run", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "inbound bodies" in result.output
    for event_id in old:
        event = load_event(app, event_id)
        assert (event.body, event.body_bytes > 0, event.status) == (None, True, event.status)
        assert event.body_purged_at is not None
    for event_id in (held, retrying, recent):
        event = load_event(app, event_id)
        assert event.body is not None and event.body_purged_at is None

