"""The shop's name and logo, as the partner portal and partner emails show them.

The name is a setting (shop_name). The logo is an image an admin uploads: PNG, JPEG or WebP only (SVG can carry
script), at most LOGO_MAX_BYTES, its type read from its first bytes, never from its name. It is stored in the
database and served by Hookyard from its own origin (the portal's /portal/logo), so the pages' Content-Security-Policy
(img-src 'self') stays as it is. Every change is audited; the audit entry holds the image's digest, never its bytes.
"""

import hashlib
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit import Action, record
from app.errors import InvalidInput
from app.extensions import db
from app.models import ShopLogo
from app.models.branding import LOGO_ID
from app.staff.settings import get_setting

#: Largest logo accepted, in bytes.
LOGO_MAX_BYTES = 256 * 1024
#: The first bytes of each image type accepted, and the Content-Type it is served with. WebP is RIFF....WEBP.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


@dataclass(frozen=True)
class Shop:
    """What the portal's header shows: the shop's name (or None) and its logo's version (None: no logo)."""

    name: str | None
    logo_version: str | None


def image_type(data):
    """Return the Content-Type of a PNG, JPEG or WebP image from its first bytes, or None for anything else."""
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def set_logo(data, *, actor):
    """Store data as the shop's logo (replacing any other); audited. Refuse anything but a PNG, JPEG or WebP image of
    at most LOGO_MAX_BYTES with InvalidInput, storing nothing."""
    if not data:
        raise InvalidInput(_l("Logo: choose an image file"), field="logo")
    if len(data) > LOGO_MAX_BYTES:
        raise InvalidInput(_l("Logo: the file is %(size_kb)s KB; at most %(max_kb)s KB",
                              size_kb=len(data) // 1024, max_kb=LOGO_MAX_BYTES // 1024),
                           field="logo")
    content_type = image_type(data)
    if content_type is None:
        raise InvalidInput(_l("Logo: not a PNG, JPEG or WebP image (the file's content decides, not its name)"),
                           field="logo")
    row = db.session.get(ShopLogo, LOGO_ID)
    before = _facts(row) if row else None
    row = row or ShopLogo(id=LOGO_ID)
    row.content_type, row.data, row.size_bytes = content_type, data, len(data)
    row.digest, row.uploaded_by = hashlib.sha256(data).hexdigest(), actor.name
    db.session.add(row)
    summary = _l("uploaded the shop's logo (%(content_type)s, %(size)s bytes)", content_type=content_type,
                 size=len(data))
    record(actor, Action.SHOP_LOGO_UPDATE, summary,
           target_type="shop_logo", target_ids=[LOGO_ID], before=before, after=_facts(row))
    db.session.commit()
    return row


def remove_logo(*, actor):
    """Remove the shop's logo; audited. Refuse with InvalidInput when there is none."""
    row = db.session.get(ShopLogo, LOGO_ID)
    if row is None:
        raise InvalidInput(_l("there is no logo to remove"), field="logo")
    record(actor, Action.SHOP_LOGO_REMOVE, _l("removed the shop's logo"), target_type="shop_logo", target_ids=[LOGO_ID],
           before=_facts(row))
    db.session.delete(row)
    db.session.commit()


def _facts(row):
    return {"content_type": row.content_type, "size_bytes": row.size_bytes, "digest": row.digest}


def load_logo():
    """The logo row with its bytes, or None."""
    return db.session.get(ShopLogo, LOGO_ID)


def logo_details():
    """The logo's type, size, digest and who uploaded it when (no image bytes), or None."""
    return db.session.execute(select(ShopLogo.content_type, ShopLogo.size_bytes, ShopLogo.digest, ShopLogo.uploaded_at,
                                     ShopLogo.uploaded_by).where(ShopLogo.id == LOGO_ID)).first()


def logo_version():
    """The logo's version (the start of its digest), or None when there is no logo; reads no image bytes."""
    digest = db.session.scalar(select(ShopLogo.digest).where(ShopLogo.id == LOGO_ID))
    return digest[:16] if digest else None


def current_shop():
    """The shop's name and logo version, as the portal shows them."""
    return Shop(get_setting("shop_name") or None, logo_version())
