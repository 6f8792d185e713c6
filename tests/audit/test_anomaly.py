"""The anomaly rules over counts (pure: no database)."""

from __future__ import annotations

from careledger.audit import anomaly

T = anomaly.Thresholds()


def test_percentile_is_nearest_rank() -> None:
    assert anomaly.percentile([], 0.95) == 0
    assert anomaly.percentile([5], 0.95) == 5
    assert anomaly.percentile(list(range(1, 21)), 0.95) == 19


def test_many_clients_needs_the_floor_for_a_user_with_no_history() -> None:
    assert not anomaly.many_clients({"u": T.many_clients_floor - 1}, {})
    [finding] = anomaly.many_clients({"u": T.many_clients_floor}, {})
    assert finding.rule == "many_clients" and finding.observed == T.many_clients_floor


def test_many_clients_is_relative_to_the_users_own_norm() -> None:
    busy_norm = {"u": [100] * 30}  # a desk that routinely opens 100 clients an hour
    assert not anomaly.many_clients({"u": 250}, busy_norm)
    [finding] = anomaly.many_clients({"u": 300}, busy_norm)
    assert finding.expected == 100


def test_night_bulk_only_at_night() -> None:
    counts = {"u": T.night_bulk}
    assert anomaly.night_bulk(counts, local_hour=23)
    assert anomaly.night_bulk(counts, local_hour=3)
    assert not anomaly.night_bulk(counts, local_hour=6)
    assert not anomaly.night_bulk(counts, local_hour=14)
    assert not anomaly.night_bulk({"u": T.night_bulk - 1}, local_hour=2)


def test_night_window_that_does_not_wrap_midnight() -> None:
    t = anomaly.Thresholds(night_start_hour=1, night_end_hour=5)
    assert anomaly.is_night(1, t) and anomaly.is_night(4, t)
    assert not anomaly.is_night(5, t) and not anomaly.is_night(23, t)


def test_repeated_denials() -> None:
    assert not anomaly.repeated_denials({"u": T.repeated_denials - 1})
    [finding] = anomaly.repeated_denials({"u": T.repeated_denials})
    assert finding.severity == "medium"


def test_evaluate_combines_rules_in_a_stable_order() -> None:
    findings = anomaly.evaluate(
        distinct_clients={"b": 60, "a": 60},
        baseline={},
        denials={"c": 9},
        local_hour=2,
    )
    assert [(f.rule, f.actor_id) for f in findings] == [
        ("many_clients", "a"),
        ("many_clients", "b"),
        ("night_bulk", "a"),
        ("night_bulk", "b"),
        ("repeated_denials", "c"),
    ]
