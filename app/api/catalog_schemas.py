"""Request and response shapes of the event catalog's API (/api/v1/event-types); also OpenAPI components."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.api.schemas import Prose, Strict
from app.delivery.catalog import MAX_DESCRIPTION

#: "schema" is a name pydantic models keep for themselves: the field is schema_ and reads and writes as "schema".
_SCHEMA = "A JSON Schema (2020-12) every message of this event type must satisfy; $ref only inside it (#/...)"


class EventTypeIn(Strict):
    description: Prose = Field("", max_length=MAX_DESCRIPTION, description="What the event means, for partners")
    schema_: dict | StrictBool = Field(alias="schema", description=_SCHEMA)
    example: dict | None = Field(None, description="A payload the schema accepts, shown to partners")
    deprecated: StrictBool = Field(False, description="Still accepted; partners are told to move off it")


class EventTypeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    name: str
    description: str
    schema_: dict | bool = Field(alias="schema", description=_SCHEMA)
    example: dict | None
    deprecated: bool
    version: int = Field(description="Goes up with every change")
    created_at: datetime
    updated_at: datetime


class EventTypeListOut(BaseModel):
    data: list[EventTypeOut]


class EventTypeDeletedOut(BaseModel):
    name: str
    deleted: bool
