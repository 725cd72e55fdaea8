"""All tables; importing this package registers them on the metadata (Alembic reads it)."""

from app.models.api_key import ApiKey
from app.models.audit import AuditEvent
from app.models.feedback_link import FeedbackLink
from app.models.invitation import Invitation, InvitationKind
from app.models.municipality import Municipality
from app.models.partner import Partner, PartnerKind
from app.models.professional import Professional
from app.models.publication import PublicationCut
from app.models.response import DONT_KNOW_ANSWER, MISSING_ANSWER, AnswerLayout, InstrumentVersion, Response
from app.models.team import Team
from app.models.user import LoginThrottle, User, UserSession, UserToken
from app.models.wave import Wave

__all__ = [
    "DONT_KNOW_ANSWER",
    "MISSING_ANSWER",
    "AnswerLayout",
    "ApiKey",
    "AuditEvent",
    "FeedbackLink",
    "InstrumentVersion",
    "Invitation",
    "InvitationKind",
    "LoginThrottle",
    "Municipality",
    "Partner",
    "PartnerKind",
    "Professional",
    "PublicationCut",
    "Response",
    "Team",
    "User",
    "UserSession",
    "UserToken",
    "Wave",
]
