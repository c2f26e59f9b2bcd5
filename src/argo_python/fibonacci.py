"""Exact Fibonacci numbers by fast doubling: O(log n) big-integer multiplications, no cache."""


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


def decimal_digits(n: int) -> int:
    """Return an upper bound of the number of decimal digits of F(n).

    F(n) < phi**n, and log10(phi) < 0.20899, so this bound lets the caller raise CPython's
    int-to-text limit (4,300 digits by default) exactly as far as the configured maximum needs.
    """
    return int(n * 0.20899) + 1
