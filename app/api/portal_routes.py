"""The producer API for partner portal links: create (the URL shown once), list, revoke."""

from app.api import bp
from app.api.portal_schemas import PortalLinkCreatedOut, PortalLinkIn, PortalLinkListOut, PortalLinkOut
from app.api.routes import api_actor, json_body, out
from app.api.scopes import require_scope
from app.portal import links
from app.portal.web import link_url


@bp.post("/portal-links")
@require_scope("endpoints:write")
def create_portal_link():
    data = PortalLinkIn.model_validate(json_body())
    row, token = links.create_link(data.endpoint_ids, list(data.capabilities), data.expires_in, actor=api_actor())
    return out(PortalLinkCreatedOut, {"id": row.id, "url": link_url(token), "expires_at": row.expires_at}, 201)


@bp.get("/portal-links")
@require_scope("read")
def list_portal_links():
    return out(PortalLinkListOut, {"data": links.list_links()})


@bp.delete("/portal-links/<link_id>")
@require_scope("endpoints:write")
def revoke_portal_link(link_id):
    return out(PortalLinkOut, links.revoke_link(link_id, actor=api_actor()))
