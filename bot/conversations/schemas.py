"""Request and reply shapes of the conversation API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from bot.bounds import OUTSIDE_HUE, in_hue

LOCATION_OUTSIDE_HUE = "location_outside_hue"


class Location(BaseModel):
    """A place the citizen shared; it must be in Huế (bot/bounds.py)."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)

    @model_validator(mode="after")
    def _in_hue(self) -> Location:
        if not in_hue(self.latitude, self.longitude):
            # Its type becomes the error's code (bot/errors.py): the citizen is told why.
            raise PydanticCustomError(LOCATION_OUTSIDE_HUE, OUTSIDE_HUE)
        return self


class MessageIn(BaseModel):
    """One message from a citizen: typed text, or the payload of a button they pressed."""

    text: str | None = Field(default=None, description="What the citizen typed.")
    payload: str | None = Field(
        default=None,
        pattern=r"^/[a-z_]{1,64}(\{.{0,500}\})?$",
        description="The payload of a button the citizen pressed, e.g. /ask_procedure.",
    )
    location: Location | None = None
    attachments: list[str] = Field(
        default=[],
        max_length=10,
        description=(
            "Ids of photos this citizen uploaded (POST /api/v1/media, or the mini-app's and "
            "host API's upload), sent with this message (a photo alone starts a report, or "
            "feeds the one being written)."
        ),
    )


class ChatRequest(MessageIn):
    """A message to the open web chat API."""

    session_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{32}$",
        description="Returned by the first reply; send it back to continue the conversation.",
    )


class Button(BaseModel):
    title: str
    payload: str


class Reply(BaseModel):
    text: str | None = None
    buttons: list[Button] = []
    image: str | None = None
    custom: dict[str, Any] | None = None


class Replies(BaseModel):
    replies: list[Reply]


class ChatResponse(Replies):
    session_id: str


class ErrorBody(BaseModel):
    code: str
    message: str = Field(description="A sentence in Vietnamese that can be shown to the citizen.")


class ErrorResponse(BaseModel):
    error: ErrorBody
