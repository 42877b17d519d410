from __future__ import annotations

import random

import pytest

from tradeguard.domain.check_digit import (
    check_digit,
    entry_number_problem,
    format_entry_number,
    normalize_entry_number,
)
from tradeguard.domain.codes import TRANSITIONS, EntryStatus, can_transition


def test_worked_examples_from_cbp_table_1() -> None:
    assert check_digit("ABC1234567") == 6
    assert check_digit("9999999999") == 0
    assert format_entry_number("ABC", 1234567) == "ABC-1234567-6"


def test_letters_map_as_the_table_says() -> None:
    # S maps to 2 and Z to 9 (not 19 / 26): S in position 1 (not doubled) contributes 2.
    assert check_digit("S000000000") == (10 - 2) % 10
    assert check_digit("Z000000000") == (10 - 9) % 10
    # J maps to 1 like A; R to 9 like I.
    assert check_digit("J000000000") == check_digit("A000000000")
    assert check_digit("R000000000") == check_digit("I000000000")


def test_even_positions_are_doubled_and_folded() -> None:
    # position 2 holds 7: 14 -> +1 = 15 -> keep 5
    assert check_digit("0700000000") == 5


@pytest.mark.parametrize(
    "value,problem",
    [
        ("ABC-1234567-6", None),
        ("abc12345676", None),
        ("ABC-1234567-5", "check digit is 5, expected 6"),
        ("AB-1234567-6", "must be filer code"),
        ("ABC-123456-6", "must be filer code"),
    ],
)
def test_entry_number_problem(value: str, problem: str | None) -> None:
    got = entry_number_problem(value)
    if problem is None:
        assert got is None
    else:
        assert got is not None and problem in got


def test_any_formatted_number_validates() -> None:
    rng = random.Random(7)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    for _ in range(500):
        filer = "".join(rng.choice(alphabet) for _ in range(3))
        number = format_entry_number(filer, rng.randrange(10_000_000))
        assert entry_number_problem(number) is None
        assert normalize_entry_number(number.replace("-", "")) == number


def test_status_lifecycle() -> None:
    assert can_transition(EntryStatus.FILED, EntryStatus.ASSESSED)
    assert can_transition(EntryStatus.HELD, EntryStatus.SEIZED)
    assert not can_transition(EntryStatus.RELEASED, EntryStatus.HELD)
    assert not can_transition(EntryStatus.SEIZED, EntryStatus.RELEASED)
    # every status is reachable from filed
    seen, todo = {EntryStatus.FILED}, [EntryStatus.FILED]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(EntryStatus)
