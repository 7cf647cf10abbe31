"""A fixed-seed slice of tests/fuzz.py inside the suite, and the inputs it once crashed on."""

from __future__ import annotations

import random
import warnings

import pytest

import fuzz
from corpus import corpus_file


def test_a_fixed_slice_of_mutations_never_raises():
    outcomes, crashes, _ = fuzz.run(cases=600, seed=20261123)
    assert [(c.case, c.where, c.error) for c in crashes] == []
    assert outcomes["image"] > 20 and outcomes["problem"] > 300  # both paths really exercised


@pytest.mark.parametrize(
    ("seed", "case", "words"),
    [
        (1, 122, "RescaleIntercept is not a finite number"),  # pydicom multiplied by a string
        (1, 1353, "RescaleSlope is not a finite number"),  # an empty slope
        (2, 6488, "Transfer Syntax UID is malformed"),  # not a string
    ],
)
def test_inputs_that_once_crashed_now_get_a_reason(seed, case, words):
    from dicomview.session import Problem, Session

    session = Session()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = session.open_file("case.dcm", fuzz.regenerate(seed, case))
        if not isinstance(outcome, Problem):
            outcome = session.render(0)
    assert isinstance(outcome, Problem)
    assert words in outcome.reason


def test_the_mutations_change_the_input():
    data = corpus_file("MR_small.dcm").read_bytes()
    rng = random.Random(0)
    assert sum(fuzz.mutate(data, rng) != data for _ in range(50)) >= 45
