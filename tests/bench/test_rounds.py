"""Interleaved rounds: each round's order, and a figure's median and range over the rounds."""

from __future__ import annotations

import math

from bench.rounds import Spread, paired_differences, rotation, spread


def test_each_round_starts_one_path_later() -> None:
    names = ["direct", "fmgate", "portkey"]
    orders = [rotation(names, index) for index in range(4)]
    assert orders == [
        ["direct", "fmgate", "portkey"],
        ["fmgate", "portkey", "direct"],
        ["portkey", "direct", "fmgate"],
        ["direct", "fmgate", "portkey"],
    ]
    # Over len(names) rounds every path takes every place once.
    for place in range(3):
        assert sorted(order[place] for order in orders[:3]) == sorted(names)
    assert rotation([], 2) == []


def test_median_and_range_of_the_rounds() -> None:
    assert spread([3.0, 1.0, 2.0]) == Spread(2.0, 1.0, 3.0, 3)
    assert spread([4.0, 1.0]) == Spread(2.5, 1.0, 4.0, 2)  # even count: the middle two's mean
    assert spread([5.0]) == Spread(5.0, 5.0, 5.0, 1)


def test_missing_and_undefined_rounds_are_left_out() -> None:
    assert spread([None, math.nan, 2.0, math.inf, 4.0]) == Spread(3.0, 2.0, 4.0, 2)
    assert spread([]) is None
    assert spread([None, math.nan]) is None


def test_spread_as_json_is_rounded() -> None:
    assert Spread(1 / 3, 0.1, 2 / 3, 3).as_json() == {
        "median": 0.3333,
        "min": 0.1,
        "max": 0.6667,
        "rounds": 3,
    }


def test_added_figures_pair_each_round_with_directs_same_round() -> None:
    path = {1: 5.0, 2: 7.0, 3: 6.0, 4: None}
    direct = {1: 2.0, 2: 3.0, 4: 1.0}
    assert paired_differences(path, direct) == {1: 3.0, 2: 4.0, 3: None, 4: None}
    assert paired_differences({1: math.nan}, {1: 1.0}) == {1: None}
