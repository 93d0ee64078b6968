import ast
from pathlib import Path

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text

from app.audit import SYSTEM, Action, Actor, record
from app.models import AuditEntry
from app.staff.retry_cap import RETRY_ACTIONS, retry_allowance

ROOT = Path(__file__).parent.parent


def test_every_action_value_is_unique():
    values = [member.value for member in Action.__members__.values()]  # aliases included
    assert len(values) == len(set(values))


def test_an_action_is_its_stored_string():
    assert Action.INBOUND_EVENT_REPLAY == "inbound_event.replay" and f"{Action.LOGIN}" == "login"
    assert Action.INBOUND_EVENTS_REPLAY == "inbound_events.replay"  # both spellings stay: old rows hold them


def test_a_string_that_is_not_an_action_is_refused(app, db):
    with app.app_context():
        with pytest.raises(ValueError, match="'delivery.retyr' is not an audit action"):
            record(SYSTEM, "delivery.retyr", "retried")
        with pytest.raises(ValueError):
            record(SYSTEM, None, "nothing")
        db.session.commit()
        assert db.session.scalars(select(AuditEntry)).all() == []


def test_an_action_is_written_as_its_plain_string(app, db):
    with app.app_context():
        record(SYSTEM, Action.ENDPOINT_RECOVER, _l("recovered"))
        record(SYSTEM, "endpoint.test", _l("a known action's string is taken too"))
        db.session.commit()
        stored = db.session.execute(text("SELECT action FROM audit_entries ORDER BY id")).scalars().all()
    assert stored == ["endpoint.recover", "endpoint.test"] and all(type(a) is str for a in stored)


def test_the_retry_cap_counts_both_spellings_of_rows_already_stored(app, db):
    actor = Actor("operator@example.com")
    with app.app_context():
        for action in ("inbound_event.replay", "inbound_events.replay", "deliveries.bulk_retry", "endpoint.update"):
            db.session.add(AuditEntry(actor=actor.name, action=action, summary="a row written before Action"))
        db.session.commit()
        assert retry_allowance(actor).used == 3
    assert all(isinstance(action, Action) for action in RETRY_ACTIONS)


def _action_arguments(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "record":
            yield node.lineno, node.args[1] if len(node.args) > 1 else None
        for keyword in getattr(node, "keywords", ()):
            if keyword.arg == "audit_action":
                yield node.lineno, keyword.value
        if isinstance(node, ast.FunctionDef):
            for argument, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True):
                if argument.arg == "audit_action":
                    yield node.lineno, default


def test_no_audit_action_is_a_string_literal_in_the_code():
    literals = []
    for path in [*ROOT.joinpath("app").rglob("*.py"), *ROOT.joinpath("tasks").rglob("*.py")]:
        for line, argument in _action_arguments(ast.parse(path.read_text())):
            if isinstance(argument, ast.Constant | ast.JoinedStr) and argument.value is not None:
                literals.append(f"{path.relative_to(ROOT)}:{line}")
    assert literals == []
