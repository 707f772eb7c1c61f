"""The train-check's loss verdict: the last pass over the samples against the first."""

from __future__ import annotations

import pytest

from services.cli.train_check_command import check_losses


def test_a_last_pass_far_enough_below_the_first_passes() -> None:
    losses = [2.0, 1.0, 1.6, 0.8, 1.2, 0.6]

    check = check_losses(losses, passes=3, drop=0.1)

    assert (check.first_pass, check.last_pass) == pytest.approx((1.5, 0.9))
    assert check.passed


def test_a_loss_that_fell_by_less_than_the_drop_fails() -> None:
    # 5% lower: the step-to-step noise of a few samples, not learning.
    check = check_losses([2.0, 2.0, 1.9, 1.9], passes=2, drop=0.1)

    assert check.passed is False
    assert check.last_pass == pytest.approx(1.9)


def test_passes_compare_the_same_samples_not_neighbouring_steps() -> None:
    # One hard sample and one easy one each pass: step by step the loss jumps about, pass by
    # pass it falls.
    losses = [3.0, 0.5, 2.5, 0.4, 2.0, 0.3]

    assert check_losses(losses, passes=3, drop=0.1).passed


@pytest.mark.parametrize(("losses", "passes"), [([1.0, 0.9, 0.8], 2), ([], 3), ([1.0, 0.5], 1)])
def test_losses_that_do_not_make_equal_passes_are_refused(losses: list[float], passes: int) -> None:
    with pytest.raises(ValueError, match="equal passes"):
        check_losses(losses, passes, drop=0.1)
