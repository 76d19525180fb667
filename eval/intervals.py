"""Wilson score intervals: how far a pass rate measured on n questions may be from the rate on all questions."""

from __future__ import annotations

import math

Z_95 = 1.959963984540054  # the two-sided 95% normal quantile


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """(low, high) of the Wilson score interval for successes/n; None when n is 0.

    Unlike the normal approximation it stays inside [0, 1] and is not degenerate at 0/n or n/n, which is
    where small gold sets often are (abstention 6/6).
    """
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
