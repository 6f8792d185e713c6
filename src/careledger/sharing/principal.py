"""A partner institution as the access policy sees it: a subject of role "partner".

Not a `User` (a partner has no login, no password, no care team): `careledger.access` reads the
few attributes a subject has (`id`, `role`, `institution_id`, `is_active`), and the care-team
caches it fills on first use are preset empty, so the policy and the ledger take a partner's
request exactly like anyone's, with no branch of their own beyond the rule in `policy.decide`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from careledger.access.roles import PARTNER
from careledger.sharing.models import Partner


@dataclass
class PartnerPrincipal:
    partner: Partner
    scopes: frozenset[str] = field(default_factory=frozenset)
    token_id: str = ""
    is_authenticated: bool = True
    role: str = PARTNER

    def __post_init__(self) -> None:
        # What access.enforce caches per user: no care team, no department.
        self._careledger_team_ids: frozenset[uuid.UUID] = frozenset()
        self._careledger_department_ids = ""

    @property
    def id(self) -> uuid.UUID:
        return self.partner.id

    @property
    def pk(self) -> uuid.UUID:
        return self.partner.id

    @property
    def institution_id(self) -> uuid.UUID:
        return self.partner.institution_id

    @property
    def is_active(self) -> bool:
        return self.partner.is_active

    def __str__(self) -> str:
        return f"Partner {self.partner.id}"
