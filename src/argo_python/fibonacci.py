"""Exact Fibonacci numbers, as integers and as decimal text; no cache, no HTTP."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import decimal
    from collections.abc import Callable

    Multiply = Callable[[decimal.Decimal, decimal.Decimal], decimal.Decimal]

# From here on F(n) is computed in decimal arithmetic: CPython 3.11 turns an int into decimal
# text in quadratic time (F(100000) took 5.6 ms, 81 % of it printing), while the standard
# library's decimal module (libmpdec) multiplies in subquadratic time and prints in linear time.
# Below it the plain int is faster (bench/fibonacci_bench.py measures both).
DECIMAL_FROM = 4096


def fibonacci(n: int) -> int:
    """Return F(n) exactly, with F(0) = 0 and F(1) = 1.

    Fast doubling walks the bits of n from the most significant one, using
    F(2k) = F(k) * (2 F(k+1) - F(k)) and F(2k+1) = F(k)^2 + F(k+1)^2.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    a, b = 0, 1  # F(k), F(k+1) for k = the bits of n read so far
    for bit in bin(n)[2:]:
        c = a * ((b << 1) - a)
        d = a * a + b * b
        a, b = (d, c + d) if bit == "1" else (c, d)
    return a


def fibonacci_text(n: int) -> str:
    """Return the decimal digits of F(n), in time close to that of computing it."""
    if n < DECIMAL_FROM:
        return str(fibonacci(n))
    return _fibonacci_decimal(n)


def _fibonacci_decimal(n: int) -> str:
    """F(n) by Lucas-number doubling in exact decimal arithmetic: one multiplication and one
    squaring per bit, against three multiplications for the integer version above.

    With F = F(k) and L = L(k) (Lucas numbers): F(2k) = F L, L(2k) = L^2 - 2(-1)^k,
    F(k+1) = (F + L) / 2 and L(k+1) = (5F + L) / 2.
    """
    import decimal  # noqa: PLC0415 - only large n need it; it costs about 1 MiB once imported

    # Enough digits for every intermediate value; any rounding would raise (Inexact is trapped).
    ctx = decimal.Context(
        prec=decimal_digits(n) + 16,
        Emax=decimal.MAX_EMAX,
        traps=[decimal.Inexact, decimal.Rounded, decimal.Overflow],
    )
    add, sub, halve = ctx.add, ctx.subtract, ctx.divide_int
    mul = karatsuba_multiplier(ctx)
    two, five = decimal.Decimal(2), decimal.Decimal(5)
    f, lucas, odd = decimal.Decimal(1), decimal.Decimal(1), True  # k = 1
    bits = bin(n)[3:]
    for bit in bits[:-1]:
        squared = mul(lucas, lucas)
        f, lucas = mul(f, lucas), add(squared, two) if odd else sub(squared, two)
        odd = False
        if bit == "1":
            f, lucas = halve(add(f, lucas), two), halve(add(ctx.multiply(f, five), lucas), two)
            odd = True
    # The last bit: F(2k) = F L, or F(2k+1) = (F(2k) + L(2k)) / 2.
    f2k = mul(f, lucas)
    if bits[-1] == "0":
        return str(f2k)
    squared = mul(lucas, lucas)
    return str(halve(add(f2k, add(squared, two) if odd else sub(squared, two)), two))


# libmpdec (the decimal module's C library) multiplies by Karatsuba while the product fits in
# 1,024 words of 19 digits, and by a number-theoretic transform above that. Just above the
# threshold the transform is the slower one: F(100000)'s last product, 10,450 by 10,450 digits,
# takes 1.1 ms in one piece and 0.7 ms as two Karatsuba products of half the size
# (bench/fibonacci_bench.py, "split products").
KARATSUBA_DIGITS = 19 * 1024


def karatsuba_multiplier(ctx: decimal.Context) -> Multiply:
    """ctx.multiply, except that a product just above libmpdec's Karatsuba limit is computed
    as two products below it: x y = (hi 10^h + lo) y = (hi y) 10^h + lo y."""
    multiply, add, sub, shift, scaleb = ctx.multiply, ctx.add, ctx.subtract, ctx.shift, ctx.scaleb

    def mul(x: decimal.Decimal, y: decimal.Decimal) -> decimal.Decimal:
        x_digits, y_digits = x.adjusted() + 1, y.adjusted() + 1  # both are positive integers
        half = (x_digits + 1) // 2
        if x_digits + y_digits <= KARATSUBA_DIGITS or half + y_digits > KARATSUBA_DIGITS:
            return multiply(x, y)
        high = shift(x, -half)  # x without its last `half` digits
        low = sub(x, scaleb(high, half))
        return add(scaleb(multiply(high, y), half), multiply(low, y))

    return mul


def decimal_digits(n: int) -> int:
    """Return an upper bound of the number of decimal digits of F(n).

    F(n) < phi**n, and log10(phi) < 0.20899.
    """
    return int(n * 0.20899) + 1
