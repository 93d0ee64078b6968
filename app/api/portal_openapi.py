"""The portal links part of the OpenAPI document (app.api.openapi assembles it)."""

from app.api import portal_schemas as schemas
from app.api.openapi_parts import ID, links, operation

#: Models read from requests and written in answers.
IN = [schemas.PortalLinkIn]
OUT = [schemas.PortalLinkOut, schemas.PortalLinkCreatedOut, schemas.PortalLinkListOut]


def portal_paths():
    """The portal link paths of the document."""
    return {
        "/portal-links": {
            "post": operation("createPortalLink", "Create a partner portal link to some endpoints; its url (the token "
                              "after #) is shown only in this answer", "endpoints:write", "201",
                              "PortalLinkCreatedOut", body="PortalLinkIn", errors=("422",),
                              links=links("revokePortalLink")),
            "get": operation("listPortalLinks", "List portal links, newest first (never their tokens)", "read", "200",
                             "PortalLinkListOut"),
        },
        "/portal-links/{id}": {"delete": operation(
            "revokePortalLink", "Revoke a link at once, and every portal session opened with it", "endpoints:write",
            "200", "PortalLinkOut", params=ID, errors=("404",))},
    }
