"""Producer API keys: created once, stored as a SHA-256 digest, checked on every API request, scoped, revocable.

Every change is audited. A key is shown once, when created; afterwards only its name and prefix are.
"""

import secrets
from dataclasses import dataclass, replace

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, literal_column, select, update

from app.audit import CLI, Action, record
from app.credentials.tokens import token_digest
from app.errors import InvalidInput
from app.extensions import db
from app.models import ApiKey, utcnow
from app.rows import get_or_not_found
from app.text import check_text

#: Every key starts with this, so a leaked one is easy to recognise in a scanner.
KEY_PREFIX = "hky_"
#: What a key may be allowed to do. "read" covers every GET.
SCOPES = ("read", "messages:write", "endpoints:write", "deliveries:write", "inbound:write", "event-types:write")
#: What each scope lets a key do, as the console's form says it.
SCOPE_DESCRIPTIONS = {
    "read": _l("read everything (every GET)"),
    "messages:write": _l("send messages"),
    "endpoints:write": _l("create, change and delete endpoints"),
    "deliveries:write": _l("retry, replay, cancel and resolve deliveries"),
    "inbound:write": _l("manage inbound sources and replay inbound events"),
    "event-types:write": _l("change the event catalog"),
}


def _check_scopes(scopes):
    if scopes is None:
        return None  # every scope, now and later
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InvalidInput(_l("scopes must be some of %(scopes)s", scopes=', '.join(SCOPES)), field="scopes")
    return [scope for scope in SCOPES if scope in scopes]


def create_api_key(name, scopes=None, *, actor=CLI):
    """Create a key allowed scopes (None: all); return (row, key). The key is not stored and cannot be shown
    again."""
    name = check_text(name, "name", 200) if isinstance(name, str) else None
    if name is None:
        raise InvalidInput(_l("an API key needs a name of 1 to 200 characters"), field="name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=key[:10], key_hash=token_digest(key), scopes=_check_scopes(scopes))
    db.session.add(row)
    db.session.flush()
    summary = _l("created API key %(name)s (%(prefix)s…)", name=row.name, prefix=row.prefix)
    record(actor, Action.API_KEY_CREATE, summary, target_type="api_key",
           target_ids=[row.id], after={"name": row.name, "scopes": row.scopes or "all"})
    db.session.commit()
    return row, key


def list_api_keys():
    """Every key, newest first (revoked ones too)."""
    return db.session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())).all()


def revoke_api_key(key_id, *, actor):
    """Revoke a key at once; audited. Revoking a revoked key changes nothing."""
    row = get_or_not_found(ApiKey, key_id, f"no API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = utcnow(), actor.name
        summary = _l("revoked API key %(name)s (%(prefix)s…)", name=row.name, prefix=row.prefix)
        record(actor, Action.API_KEY_REVOKE, summary, target_type="api_key",
               target_ids=[row.id])
        db.session.commit()
    return row


def allows(row, scope):
    """Say whether the key may act in scope (keys without scopes, such as older ones, may do everything)."""
    return row.scopes is None or scope in row.scopes


@dataclass(frozen=True)
class KeyInUse:
    """The API key a request authenticated with. confirmed is False when it is the key as this process last read it
    (on PostgreSQL), not read for this request: the request's own statement must check it (STILL_LIVE), or the
    caller read it again (reread) before answering."""

    id: str
    name: str
    scopes: list | None
    last_used_at: object
    fingerprint: str | None = None
    confirmed: bool = True


_keys = ApiKey.__table__
#: PostgreSQL: what a request's key may do and be called, as one value a statement compares (revoked: no row).
_FINGERPRINT = "md5(concat_ws('|', {t}.id, {t}.name, CAST({t}.scopes AS text)))"
#: PostgreSQL: SQL true while the key read as KeyInUse :key_id with :key_fingerprint is live and unchanged; a write
#: statement that checks it writes nothing otherwise (app.delivery.messages.Guard).
STILL_LIVE = (f"EXISTS (SELECT FROM api_keys k WHERE k.id = :key_id AND k.revoked_at IS NULL "
              f"AND {_FINGERPRINT.format(t='k')} = :key_fingerprint)")
#: The columns a request needs of its key (a plain row: no ORM object per API call).
_LIVE = select(_keys.c.id, _keys.c.name, _keys.c.scopes, _keys.c.last_used_at).where(_keys.c.revoked_at.is_(None))
_LOOKUP = _LIVE.where(_keys.c.key_hash == bindparam("digest"))
_LOOKUP_POSTGRES = _LOOKUP.add_columns(literal_column(_FINGERPRINT.format(t="api_keys")).label("fingerprint"))
_REREAD = (_LIVE.add_columns(literal_column(_FINGERPRINT.format(t="api_keys")).label("fingerprint"))
           .where(_keys.c.id == bindparam("key_id")))
#: PostgreSQL: {key digest: KeyInUse as this process last read it}; statements check it (STILL_LIVE).
_known = {}
#: At most this many keys are remembered (all are forgotten when more would be).
KNOWN_KEYS_MAX = 1000
#: A key's use is noted at most this often (last_used_at).
USE_NOTED_EVERY_SECONDS = 60


def authenticate(key, *, remembered=False):
    """Return the live key matching key as a KeyInUse, or None. Notes its use once a minute.

    remembered: on PostgreSQL the key may be the one this process last read, not read again (confirmed False): the
    caller's statement must check STILL_LIVE, or the caller reread() it, before acting or answering. A revoked key
    is therefore refused by the first request that reaches the database after it was revoked, in any process.
    """
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    digest = token_digest(key)
    now = utcnow()
    if remembered:
        known = _known.get(digest)
        if known is not None and not _use_to_note(known, now):
            return known
    postgres = db.session.get_bind().dialect.name == "postgresql"
    row = db.session.execute(_LOOKUP_POSTGRES if postgres else _LOOKUP, {"digest": digest}).first()
    _known.pop(digest, None)
    if row is None:
        return None
    found = KeyInUse(row.id, row.name, row.scopes, row.last_used_at, row.fingerprint if postgres else None)
    if _use_to_note(found, now):
        db.session.execute(update(ApiKey).where(ApiKey.id == found.id).values(last_used_at=now))
        db.session.commit()
        found = replace(found, last_used_at=now)
    if postgres:
        if len(_known) >= KNOWN_KEYS_MAX:
            _known.clear()
        _known[digest] = replace(found, confirmed=False)
    return found


def _use_to_note(key, now):
    return key.last_used_at is None or (now - key.last_used_at).total_seconds() > USE_NOTED_EVERY_SECONDS


def still_live_params(key):
    """The parameters of STILL_LIVE for key."""
    return {"key_id": key.id, "key_fingerprint": key.fingerprint}


def reread(key):
    """key (a KeyInUse) read again: the same key, confirmed, or None if it was revoked (PostgreSQL; elsewhere keys
    are always read, so key is returned). Forgets what this process remembered of it if it changed."""
    if key.confirmed:
        return key
    row = db.session.execute(_REREAD, {"key_id": key.id}).first()
    if row is None or row.fingerprint != key.fingerprint:
        forget(key)
    return None if row is None else KeyInUse(row.id, row.name, row.scopes, row.last_used_at, row.fingerprint)


def forget(key):
    """Forget what this process remembers of key (a KeyInUse): the next request reads it."""
    for digest, known in list(_known.items()):
        if known.id == key.id:
            _known.pop(digest, None)
