"""Tables. Columns whose name ends in `_enc` hold MultiFernet ciphertext and nothing else does.

`quolum-bot keys rotate` finds secrets by that suffix, so a new secret column
only needs the suffix (and a migration) to be covered.
"""

from storage.models.base import NAMING, Base, UTCDateTime
from storage.models.contracts import (
    ContractReminder,
    ContractReminderPost,
    ContractRow,
    ContractSettings,
)
from storage.models.digests import DigestDelivery, DigestSubscription, OnDemandDigest, RefusedBlock
from storage.models.seats import (
    SeatAsk,
    SeatAskBatch,
    SeatAudit,
    SeatExemption,
    SeatLink,
    SeatPolicy,
    SeatReclaim,
)
from storage.models.tables import (
    AlertRoute,
    Connection,
    ConnectionCheck,
    ConnectionEvent,
    Incident,
    Invitation,
    InvitationSender,
    IssuedToken,
    JobClaim,
    OAuthState,
    SlackEvent,
    SlackInstallation,
    UsageSnapshot,
    WorkspaceAdmin,
)

__all__ = [
    "AlertRoute",
    "Base",
    "Connection",
    "ContractReminder",
    "ContractReminderPost",
    "ContractRow",
    "ContractSettings",
    "ConnectionCheck",
    "ConnectionEvent",
    "DigestDelivery",
    "DigestSubscription",
    "Incident",
    "Invitation",
    "InvitationSender",
    "IssuedToken",
    "JobClaim",
    "NAMING",
    "OAuthState",
    "OnDemandDigest",
    "SeatAsk",
    "SeatAskBatch",
    "SeatAudit",
    "SeatExemption",
    "SeatLink",
    "SeatPolicy",
    "RefusedBlock",
    "SeatReclaim",
    "SlackEvent",
    "SlackInstallation",
    "UTCDateTime",
    "UsageSnapshot",
    "WorkspaceAdmin",
]
