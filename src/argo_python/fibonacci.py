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
# takes 1.0 ms in one piece and 0.5 ms as one Karatsuba step over three products below the
# threshold (bench/fibonacci_bench.py, "split products"). From about 1.5 times the threshold
# the transform wins again.
KARATSUBA_DIGITS = 19 * 1024
SPLIT_UP_TO_DIGITS = KARATSUBA_DIGITS * 3 // 2


def karatsuba_multiplier(ctx: decimal.Context) -> Multiply:
    """ctx.multiply, except that a product just above libmpdec's Karatsuba limit takes one
    Karatsuba step here: with x = x1 B + x0 and y = y1 B + y0 for B = 10^h,
    x y = x1 y1 B^2 + ((x1 + x0)(y1 + y0) - x1 y1 - x0 y0) B + x0 y0."""
    multiply, add, sub, shift, scaleb = ctx.multiply, ctx.add, ctx.subtract, ctx.shift, ctx.scaleb

    def mul(x: decimal.Decimal, y: decimal.Decimal) -> decimal.Decimal:
        x_digits, y_digits = x.adjusted() + 1, y.adjusted() + 1  # both are positive integers
        if not KARATSUBA_DIGITS < x_digits + y_digits <= SPLIT_UP_TO_DIGITS:
            return multiply(x, y)
        h = (max(x_digits, y_digits) + 1) // 2
        x1, y1 = shift(x, -h), shift(y, -h)  # x and y without their last h digits
        x0, y0 = sub(x, scaleb(x1, h)), sub(y, scaleb(y1, h))
        high, low = multiply(x1, y1), multiply(x0, y0)
        middle = sub(sub(multiply(add(x1, x0), add(y1, y0)), high), low)
        return add(add(scaleb(high, 2 * h), scaleb(middle, h)), low)

    return mul


def decimal_digits(n: int) -> int:
    """Return an upper bound of the number of decimal digits of F(n).

    F(n) < phi**n, and log10(phi) < 0.20899.
    """
    return int(n * 0.20899) + 1
