"""Request and response shapes of the portal links API (app.api.portal_routes)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt

from app.api.schemas import Out, Strict
from app.portal.links import CAPABILITIES, MAX_ENDPOINTS, MAX_EXPIRES_IN, MIN_EXPIRES_IN

EndpointId = Annotated[str, Field(min_length=1, max_length=64)]


class PortalLinkIn(Strict):
    endpoint_ids: list[EndpointId] = Field(min_length=1, max_length=MAX_ENDPOINTS,
                                           description="The endpoints the partner sees; nothing else is visible")
    capabilities: list[Literal[CAPABILITIES]] = Field(  # type: ignore[valid-type]
        default_factory=list, description="view is always granted; replay, manage and secret add to it")
    expires_in: StrictInt = Field(ge=MIN_EXPIRES_IN, le=MAX_EXPIRES_IN, description="Seconds until the link expires")


class PortalLinkOut(Out):
    id: str
    endpoint_ids: list[str]
    capabilities: list[str]
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    last_opened_at: datetime | None


class PortalLinkCreatedOut(BaseModel):
    id: str
    url: str = Field(description="Shown only in this response: the token is in the fragment (after #), so it "
                                 "never reaches a server log")
    expires_at: datetime


class PortalLinkListOut(BaseModel):
    data: list[PortalLinkOut]
