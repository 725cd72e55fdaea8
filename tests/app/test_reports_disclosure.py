"""Disclosure control on its own: primary and secondary suppression (app.reports.disclosure)."""

from __future__ import annotations

from app.reports.disclosure import suppressed_groups


def test_groups_below_the_minimum_are_hidden():
    assert suppressed_groups({"a": 4, "b": 5, "c": 12}, 5) == {"a"}


def test_one_hidden_member_of_a_shown_team_hides_the_next_smallest():
    sizes = {"a": 3, "b": 9, "c": 6, "d": 7}
    parents = {"a": "noord", "b": "noord", "c": "noord", "d": "zuid"}
    assert suppressed_groups(sizes, 5, parents=parents) == {"a", "c"}


def test_two_hidden_members_need_no_secondary_suppression():
    sizes = {"a": 3, "b": 2, "c": 6}
    parents = dict.fromkeys(sizes, "noord")
    assert suppressed_groups(sizes, 5, parents=parents) == {"a", "b"}


def test_a_team_too_small_to_show_its_total_needs_no_secondary_suppression():
    sizes = {"a": 3}
    assert suppressed_groups(sizes, 5, parents={"a": "noord"}) == {"a"}


def test_ties_are_broken_the_same_way_every_time():
    sizes = {"a": 1, "c": 6, "b": 6}
    parents = dict.fromkeys(sizes, "t")
    assert suppressed_groups(sizes, 5, parents=parents) == {"a", "b"}


def test_a_larger_minimum_hides_more():
    sizes = {"a": 9, "b": 12}
    assert suppressed_groups(sizes, 10, parents=dict.fromkeys(sizes, "t")) == {"a", "b"}
    assert suppressed_groups(sizes, 5, parents=dict.fromkeys(sizes, "t")) == set()


def test_hidden_members_that_together_are_still_too_few_hide_more():
    # Team total 12: showing A and B would let anyone compute C and D together (2 respondents).
    sizes = {"a": 5, "b": 5, "c": 1, "d": 1}
    parents = dict.fromkeys(sizes, "noord")
    hidden = suppressed_groups(sizes, 5, parents=parents)
    assert {"c", "d"} < hidden
    assert sum(sizes[group] for group in hidden) >= 5
