"""Request and response shapes of ``GET``/``PATCH /api/v1/municipality``.

Every field is optional on ``PATCH``; ``null`` clears it. Texts are stripped; an empty text is
refused (send ``null`` to clear). Respondents see these details, so each is checked for its kind:
an e-mail address, a phone number of digits, and an ``https://`` link.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ContactEmail = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=254, pattern=r"^[^@\s<>\"']+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
    ),
]
# Digits with the usual separators, optionally a leading +: "+31 70 123 45 67", "(010) 123-4567", "14 010"
ContactPhone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=32, pattern=r"^\+?[0-9 ()-]*[0-9]$"),
]
PrivacyUrl = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=500, pattern=r"^https://[A-Za-z0-9.-]+(:[0-9]+)?(/\S*)?$"
    ),
]
PrivacyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class MunicipalityUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    contact_email: ContactEmail | None = None
    contact_phone: ContactPhone | None = None
    privacy_url: PrivacyUrl | None = None
    privacy_text: PrivacyText | None = None


class MunicipalityPublic(BaseModel):
    """The municipality as its own keys see it; ``sender_name`` is what respondents read."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str
    sender_name: str
    display_name: str | None
    contact_email: str | None
    contact_phone: str | None
    privacy_url: str | None
    privacy_text: str | None
