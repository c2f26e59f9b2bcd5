from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argo_python.config import FIB_MAX_N_LIMIT
from argo_python.fibonacci import (
    DECIMAL_FROM,
    KARATSUBA_DIGITS,
    decimal_digits,
    fibonacci,
    fibonacci_text,
)


def split_from() -> int:
    """The smallest n whose last product, F(n/2) L(n/2), is above libmpdec's Karatsuba limit."""
    return next(
        n for n in range(DECIMAL_FROM, 10 * FIB_MAX_N_LIMIT) if decimal_digits(n) > KARATSUBA_DIGITS
    )


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


@pytest.fixture(autouse=True)
def _print_any_integer() -> Iterator[None]:
    """The reference values are printed with str(), which refuses large ints by default."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    yield
    sys.set_int_max_str_digits(limit)


# Where the arithmetic changes: integers below DECIMAL_FROM, decimal from there, a last product
# split in two from split_from(); odd and even n on each side, and the configured maximum.
@pytest.mark.parametrize(
    "n",
    [
        *(DECIMAL_FROM + d for d in (-2, -1, 0, 1, 2, 3)),
        *(split_from() + d for d in (-2, -1, 0, 1, 2, 3)),
        FIB_MAX_N_LIMIT - 1,
        FIB_MAX_N_LIMIT,
    ],
    ids=str,
)
def test_text_is_the_exact_decimal_value(n: int) -> None:
    assert fibonacci_text(n) == str(fibonacci(n))


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=FIB_MAX_N_LIMIT))
def test_text_is_exact_over_the_whole_range(n: int) -> None:
    assert fibonacci_text(n) == str(fibonacci(n))


def test_the_split_applies_below_the_configured_maximum() -> None:
    """Otherwise the tests above would not reach the split products."""
    assert DECIMAL_FROM < split_from() <= FIB_MAX_N_LIMIT
