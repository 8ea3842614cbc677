"""`reconcile`: which copy of a panel's state wins, tested without a widget or a file."""

from __future__ import annotations

from fooocus_widgets.state import PanelState
from fooocus_widgets.stores.base import StoredState
from fooocus_widgets.stores.reconcile import reconcile

A = PanelState(prompt="a")
B = PanelState(prompt="b")


def saved(state: PanelState, revision: int, at: str = "2026-01-01T00:00:00.000+00:00") -> StoredState:
    return StoredState(key="k", state=state, revision=revision, updated_at=at)


def test_nothing_saved_and_nothing_given_gives_the_defaults() -> None:
    chosen = reconcile([None], None, 0)
    assert (chosen.state, chosen.revision, chosen.conflicts) == (PanelState(), 0, ())
    assert chosen.notice("k") == ""


def test_nothing_given_takes_the_newest_saved_copy() -> None:
    chosen = reconcile([saved(A, 3), saved(B, 5), None], None, 0)
    assert (chosen.state, chosen.revision, chosen.conflicts) == (B, 5, ())


def test_a_newer_given_copy_wins_and_adopts_the_highest_revision() -> None:
    chosen = reconcile([saved(A, 3)], B, 7)
    assert (chosen.state, chosen.revision, chosen.conflicts) == (B, 7, ())
    assert chosen.newer_saved is None


def test_a_newer_saved_copy_wins_and_the_given_one_is_kept_as_a_conflict() -> None:
    newer = saved(A, 9, "2026-03-04T05:06:07.000+00:00")
    chosen = reconcile([newer], B, 4)
    assert (chosen.state, chosen.revision) == (A, 9)
    assert chosen.conflicts == (B,)
    assert chosen.newer_saved is newer
    assert "Restored the newer copy saved at 2026-03-04 05:06:07 UTC" in chosen.notice("k")
    assert "k.conflict" in chosen.notice("k")


def test_a_tie_goes_to_the_given_copy_and_keeps_the_saved_one() -> None:
    chosen = reconcile([saved(A, 5)], B, 5)
    assert (chosen.state, chosen.revision, chosen.conflicts) == (B, 5, (A,))
    assert (
        chosen.notice("main")
        == "Two saved copies differed; the other one is kept under the key main.conflict."
    )


def test_equal_copies_are_no_conflict_whatever_their_revisions() -> None:
    assert reconcile([saved(A, 5)], A, 5).conflicts == ()
    assert reconcile([saved(A, 9)], A, 2).conflicts == ()
    assert reconcile([saved(A, 9)], A, 2).revision == 9


def test_older_saved_copies_are_superseded_not_conflicts() -> None:
    chosen = reconcile([saved(A, 2), saved(B, 4)], PanelState(prompt="c"), 8)
    assert chosen.conflicts == ()


def test_saved_copies_that_tie_with_the_newest_are_kept() -> None:
    chosen = reconcile([saved(A, 6, "2026-01-01"), saved(B, 6, "2026-01-02")], None, 0)
    assert chosen.state == B
    assert chosen.conflicts == (A,)
