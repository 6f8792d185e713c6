"""Card numbers: institution code + zero-padded sequence + Luhn check digit.

The sequence lives on the institution row and is advanced under a row lock, in blocks for batch
enrolment, so two desks never issue the same number; the blind-index unique constraint is the
backstop.
"""

from __future__ import annotations

import uuid

from careledger.clients.identifiers import card_number_with_check_digit
from careledger.institutions.models import Institution

SEQUENCE_WIDTH = 7


def allocate_card_numbers(institution_id: uuid.UUID, count: int) -> list[str]:
    """Reserve `count` consecutive numbers. Call inside the enrolment transaction."""
    institution = Institution.objects.select_for_update().get(pk=institution_id)
    first = institution.card_sequence + 1
    institution.card_sequence += count
    institution.save(update_fields=["card_sequence", "updated_at"])
    return [
        card_number_with_check_digit(institution.code, n, width=SEQUENCE_WIDTH)
        for n in range(first, first + count)
    ]
