"""What the builders read of a provider's entry and of stored records: the shapes, not the types.

Builders are pure and sit beside providers/ and storage/, not above them, so they never import a
`ProviderSpec` or a storage record. They take anything with these attributes: the services hand them
the entry and the records as they are (a `typing.Protocol` is checked by shape, not by class).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol


class ScopeView(Protocol):
    name: str
    purpose: str  # what Quolum reads with it, in plain words


class ProviderView(Protocol):
    """A provider's catalogue entry (providers/plugin.py `ProviderSpec`)."""

    key: str
    display_name: str
    account_word: str  # what the card calls the account id: "portal 123"
    scopes: Sequence[ScopeView]
    oauth: object | None  # connects through an OAuth consent page (else a credential form)
    grant: Any  # a credential form's added OAuth consent (`label`, `granted`, `again`), or None


class ConnectionView(Protocol):
    """A stored connection (storage/connections.py `ConnectionRecord`)."""

    status: str  # core.connection_status
    status_reason: str | None
    account_id: str | None
    account_name: str | None
    connected_by: str | None
    connected_at: datetime | None
    last_used_at: datetime | None

    @property
    def exists(self) -> bool: ...


class InvitationView(Protocol):
    """A stored invitation (storage/invitations.py `InvitationRecord`)."""

    id: str
    provider: str
    inviter_id: str
    invitee_id: str
    created_at: datetime
