"""The base schemas every router uses: one strict input base and one message answer."""

from ninja import Schema
from pydantic import ConfigDict


class StrictSchema(Schema):
    """Input bodies refuse unknown fields (a typo is a 422, not a silently ignored value)."""

    model_config = ConfigDict(extra="forbid")


class MessageOut(Schema):
    message: str
