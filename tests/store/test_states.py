"""The order state machine: the legal moves, and that everything else is refused (no DB)."""

from __future__ import annotations

import itertools

import pytest

from careledger.store.states import (
    FINAL,
    TRANSITIONS,
    Event,
    IllegalTransition,
    State,
    advance,
    refund_event,
)


def test_the_happy_path_of_a_desk_paid_booked_visit():
    state = State.CREATED
    for event in (Event.SUBMIT, Event.PAY, Event.BOOK, Event.FULFIL, Event.REFUND_PART):
        state = advance(state, event)
    assert state == State.PARTIALLY_REFUNDED
    assert advance(state, Event.REFUND_ALL) == State.REFUNDED


@pytest.mark.parametrize(("state", "event"), list(itertools.product(State, Event)))
def test_every_move_not_in_the_table_is_refused(state, event):
    if (state, event) in TRANSITIONS:
        assert advance(state, event) == TRANSITIONS[(state, event)]
    else:
        with pytest.raises(IllegalTransition):
            advance(state, event)


def test_nothing_leaves_a_final_state_except_late_money_going_back():
    for state in FINAL:
        moves = [e for e in Event if (state, e) in TRANSITIONS]
        assert moves in ([], [Event.REFUND_ALL])


def test_unpaid_orders_cannot_be_refunded_or_booked():
    for state in (State.CREATED, State.AWAITING_PAYMENT):
        for event in (Event.REFUND_PART, Event.BOOK, Event.FULFIL):
            with pytest.raises(IllegalTransition):
                advance(state, event)


def test_unknown_names_are_refused():
    with pytest.raises(IllegalTransition):
        advance("shipped", "pay")


def test_full_or_partial_is_decided_by_the_totals():
    assert refund_event(paid_fen=100, refunded_after_fen=100) == Event.REFUND_ALL
    assert refund_event(paid_fen=100, refunded_after_fen=99) == Event.REFUND_PART
