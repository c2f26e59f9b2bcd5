from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from argo_python.fibonacci import decimal_digits, fibonacci


def fib_loop(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, 0),
        (1, 1),
        (2, 1),
        (10, 55),
        (90, 2880067194370816120),
        (93, 12200160415121876738),  # the largest that fits in a u64
        (94, 19740274219868223167),  # where the Rust original saturates
        (100, 354224848179261915075),
    ],
    ids=str,
)
def test_known_values(n: int, expected: int) -> None:
    assert fibonacci(n) == expected


def test_fib_10000_has_2090_digits() -> None:
    assert len(str(fibonacci(10_000))) == 2090


@given(st.integers(min_value=0, max_value=5000))
def test_fast_doubling_equals_the_simple_loop(n: int) -> None:
    assert fibonacci(n) == fib_loop(n)


@given(st.integers(min_value=0, max_value=20_000))
def test_recurrence_holds(n: int) -> None:
    assert fibonacci(n + 2) == fibonacci(n + 1) + fibonacci(n)


@given(st.integers(min_value=0, max_value=20_000))
def test_digit_bound_is_an_upper_bound_and_tight(n: int) -> None:
    digits = len(str(fibonacci(n)))
    assert digits <= decimal_digits(n) <= digits + 1


def test_negative_n_is_rejected() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        fibonacci(-1)
