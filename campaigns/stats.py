"""Results and statistics for campaign steps: pure functions, no Django, standard library only.

Per step and variant: enrolled, sent, replied and the reply rate (replies out of *sent*) with a
95% Wilson score interval. Between two variants of a step: a two-sided test of the reply rates,
Fisher's exact test when any expected cell of the 2x2 table is below 5, otherwise the pooled
two-proportion z-test. A winner is declared only when p < alpha (0.05); otherwise the verdict
says "No winner yet" and how many more sends per variant would detect the observed difference
with 80% power (the usual normal-approximation sample size for two proportions).

The normal quantile is Acklam's rational approximation polished by one Halley step against
math.erfc, which brings it to full double precision in the range used here.
"""

import itertools
import math
from dataclasses import dataclass

from linkedin_crm.text import counted

POWER = 0.80
FISHER = "fisher"
Z_TEST = "z-test"
_TEST_NAMES = {FISHER: "Fisher's exact test", Z_TEST: "two-proportion z-test"}
# R's fisher.test counts tables whose probability is within this relative tolerance of the
# observed one as "as extreme", so that ties broken by rounding still count.
_FISHER_RELATIVE_TOLERANCE = 1e-7
_MIN_EXPECTED = 5.0


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class VariantResult:
    label: str
    enrolled: int
    sent: int
    replied: int
    rate: float | None  # replied / sent; None when nothing was sent
    interval: Interval | None  # 95% Wilson interval of the rate; None when nothing was sent


@dataclass(frozen=True)
class Comparison:
    test: str  # "fisher" or "z-test"
    p_value: float
    winner: str | None  # label of the better variant when p < alpha, else None
    verdict: str
    # Per variant, beyond what the smaller variant has sent; None when a winner is declared,
    # when the rates are equal or when a variant has sent nothing.
    more_sends_needed: int | None


# --- Normal distribution -------------------------------------------------------------------


def normal_cdf(x: float) -> float:
    """P(Z <= x) for a standard normal Z."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


# Acklam's coefficients (P. J. Acklam, "An algorithm for computing the inverse normal
# cumulative distribution function", 2003): relative error below 1.15e-9 before refinement.
_A = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_B = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_D = (
    7.784695709041462e-03,
    3.224671290700398e-01,
    2.445134137142996e00,
    3.754408661907416e00,
)
_P_LOW = 0.02425
_MAX_EXP = 700.0  # math.exp overflows just above 709


def normal_quantile(p: float) -> float:
    """The x with P(Z <= x) = p, for 0 < p < 1 (the inverse of normal_cdf).

    Accurate to a few units in the last place: the upper half is mirrored onto the lower one
    (1 − p is exact for p >= 0.5), so the Halley step never suffers from cancellation near 1.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"normal_quantile needs 0 < p < 1, got {p!r}")
    if p > 0.5:
        return -_lower_normal_quantile(1.0 - p)
    return _lower_normal_quantile(p)


def _lower_normal_quantile(p: float) -> float:
    """normal_quantile for 0 < p <= 0.5."""
    if p < _P_LOW:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
            (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
        )
    else:
        q = p - 0.5
        r = q * q
        x = (
            (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5])
            * q
            / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)
        )
    if x * x / 2.0 > _MAX_EXP:
        return x  # p is subnormal: Acklam alone (relative error < 1.15e-9) will do
    # One step of Halley's method on normal_cdf(x) − p, as Acklam suggests.
    error = normal_cdf(x) - p
    u = error * math.sqrt(2.0 * math.pi) * math.exp(x * x / 2.0)
    return x - u / (1.0 + x * u / 2.0)


# --- Validation ----------------------------------------------------------------------------


def _check_count(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")


def _check_successes(successes: int, trials: int, what: str = "successes") -> None:
    _check_count(what, successes)
    _check_count("trials", trials)
    if successes > trials:
        raise ValueError(f"{what} ({successes}) cannot exceed trials ({trials})")


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")


def _check_open_unit(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value!r}")


# --- Single proportion ---------------------------------------------------------------------


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> Interval | None:
    """The Wilson score interval (no continuity correction) for successes / trials.

    None when there are no trials. The bounds are exactly 0 when successes == 0 and exactly 1
    when successes == trials.
    """
    _check_successes(successes, trials)
    _check_open_unit("confidence", confidence)
    if trials == 0:
        return None
    z = normal_quantile(1.0 - (1.0 - confidence) / 2.0)
    z2 = z * z
    p_hat = successes / trials
    denominator = 1.0 + z2 / trials
    centre = (p_hat + z2 / (2.0 * trials)) / denominator
    half_width = (z / denominator) * math.sqrt(
        p_hat * (1.0 - p_hat) / trials + z2 / (4.0 * trials * trials)
    )
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == trials else min(1.0, centre + half_width)
    return Interval(low=low, high=high)


# --- Two proportions -----------------------------------------------------------------------


def fisher_exact_two_sided(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test for the 2x2 table [[a, b], [c, d]].

    As R's fisher.test and scipy.stats.fisher_exact: the sum of the (hypergeometric, margins
    fixed) probabilities of all tables no more likely than the observed one, within a relative
    tolerance of 1e-7. The probabilities are built by the ratio of successive terms, starting
    from the most likely table, so nothing overflows however large the counts.
    """
    for name, value in (("a", a), ("b", b), ("c", c), ("d", d)):
        _check_count(name, value)
    row1, row2, col1 = a + b, c + d, a + c
    low, high = max(0, col1 - row2), min(row1, col1)
    if low == high:
        return 1.0
    # Weight of the table whose top-left cell is k, proportional to C(row1, k)·C(row2, col1 − k).
    mode = min(high, max(low, (row1 + 1) * (col1 + 1) // (row1 + row2 + 2)))
    weights = [0.0] * (high - low + 1)
    weights[mode - low] = 1.0
    for k in range(mode, high):
        ratio = (row1 - k) * (col1 - k) / ((k + 1) * (row2 - col1 + k + 1))
        weights[k + 1 - low] = weights[k - low] * ratio
    for k in range(mode, low, -1):
        ratio = k * (row2 - col1 + k) / ((row1 - k + 1) * (col1 - k + 1))
        weights[k - 1 - low] = weights[k - low] * ratio
    threshold = weights[a - low] * (1.0 + _FISHER_RELATIVE_TOLERANCE)
    as_extreme = math.fsum(w for w in weights if w <= threshold)
    return min(1.0, as_extreme / math.fsum(weights))


def two_proportion_z_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """(z, two-sided p) for H0: p1 = p2, with the pooled standard error.

    z is positive when x1/n1 > x2/n2. When the pooled proportion is 0 or 1 (nobody or everybody
    succeeded in both groups) the rates are equal and the result is (0.0, 1.0).
    """
    _check_successes(x1, n1, "x1")
    _check_successes(x2, n2, "x2")
    if n1 == 0 or n2 == 0:
        raise ValueError("two_proportion_z_test needs at least one trial in each group")
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance <= 0.0:
        return 0.0, 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return z, math.erfc(abs(z) / math.sqrt(2.0))


def sample_size_per_group(
    p1: float, p2: float, alpha: float = 0.05, power: float = POWER
) -> int | None:
    """Sends per group for a two-sided test at level alpha to detect p1 vs p2 with this power.

    n = (z_{1−α/2}·√(2·p̄·(1−p̄)) + z_{power}·√(p1(1−p1) + p2(1−p2)))² / (p1 − p2)², p̄ the mean
    of p1 and p2, rounded up (no continuity correction; the equation R's power.prop.test
    solves). None when p1 == p2: no sample size detects a zero difference.
    """
    _check_probability("p1", p1)
    _check_probability("p2", p2)
    _check_open_unit("alpha", alpha)
    _check_open_unit("power", power)
    if p1 == p2:
        return None
    p_bar = (p1 + p2) / 2.0
    z_alpha = normal_quantile(1.0 - alpha / 2.0)
    z_beta = normal_quantile(power)
    root_n = z_alpha * math.sqrt(2.0 * p_bar * (1.0 - p_bar)) + z_beta * math.sqrt(
        p1 * (1.0 - p1) + p2 * (1.0 - p2)
    )
    n = (root_n / (p1 - p2)) ** 2
    # Guard the ceiling against rounding noise on a result that is a whole number.
    return max(1, math.ceil(n - 1e-9))


# --- Campaign results ----------------------------------------------------------------------


def variant_result(label: str, enrolled: int, sent: int, replied: int) -> VariantResult:
    """Counts for one variant of a step, with its reply rate (out of sent) and Wilson interval.

    Negative counts and more replies than sends are bad input and raise ValueError.
    """
    _check_count("enrolled", enrolled)
    _check_count("sent", sent)
    _check_count("replied", replied)
    if replied > sent:
        raise ValueError(
            f"variant {label!r}: replied ({replied}) cannot exceed sent ({sent}); "
            "replies are counted out of messages sent"
        )
    return VariantResult(
        label=label,
        enrolled=enrolled,
        sent=sent,
        replied=replied,
        rate=replied / sent if sent else None,
        interval=wilson_interval(replied, sent),
    )


def _uses_fisher(table: tuple[int, int, int, int]) -> bool:
    """True when any expected cell (row total × column total / grand total) is below 5."""
    a, b, c, d = table
    total = a + b + c + d
    if total == 0:
        return True
    rows, columns = (a + b, c + d), (a + c, b + d)
    return any(row * column / total < _MIN_EXPECTED for row in rows for column in columns)


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _format_p(p: float, alpha: float) -> str:
    """The p-value to two significant figures ("p = 0.012", "p = 0.31", "p < 0.001"), or to
    more when two would round it across alpha (0.0496 is shown as such, not as 0.050)."""
    if p < 0.001:
        return "p < 0.001"
    for digits in (2, 3, 4):
        shown = float(f"{p:.{digits}g}")
        if (shown < alpha) == (p < alpha):
            break
    decimals = max(0, digits - 1 - math.floor(math.log10(shown)))
    return f"p = {shown:.{decimals}f}"


def compare(a: VariantResult, b: VariantResult, alpha: float = 0.05) -> Comparison:
    """Compare the reply rates (replies out of sent) of two variants of the same step."""
    _check_open_unit("alpha", alpha)
    table = (a.replied, a.sent - a.replied, b.replied, b.sent - b.replied)
    if _uses_fisher(table):
        test, p_value = FISHER, fisher_exact_two_sided(*table)
    else:
        test, p_value = Z_TEST, two_proportion_z_test(a.replied, a.sent, b.replied, b.sent)[1]
    test_name = _TEST_NAMES[test]

    if a.sent == 0 or b.sent == 0:
        return Comparison(test, p_value, None, "Not enough sends to compare yet.", None)
    if a.replied * b.sent == b.replied * a.sent:
        return Comparison(test, p_value, None, "No difference in reply rates so far.", None)

    rate_a, rate_b = a.replied / a.sent, b.replied / b.sent
    p_text = _format_p(p_value, alpha)
    if p_value < alpha:
        best, other = (a, b) if rate_a > rate_b else (b, a)
        best_rate, other_rate = best.replied / best.sent, other.replied / other.sent
        verdict = (
            f"{best.label} wins: {_percent(best_rate)} vs {_percent(other_rate)} replies "
            f"({p_text}, {test_name})."
        )
        return Comparison(test, p_value, best.label, verdict, None)

    needed = sample_size_per_group(rate_a, rate_b, alpha=alpha, power=POWER)
    assert needed is not None  # the rates differ
    more = max(0, needed - min(a.sent, b.sent))
    points = f"{abs(rate_a - rate_b) * 100:.1f}-point difference"
    power = f"{POWER:.0%} power"
    if more > 0:
        sends = counted(more, "more send", "more sends")
        advice = f"about {sends} per variant would detect a {points} with {power}."
    else:
        # Only happens at tiny counts, where Fisher's test is conservative and the normal
        # approximation behind the estimate is rough.
        advice = (
            f"keep sending: each variant already has the {counted(needed, 'send', 'sends')} "
            "that the usual "
            f"estimate gives for detecting a {points} with {power}, but that estimate is "
            "approximate at these counts."
        )
    verdict = f"No winner yet ({p_text}, {test_name}): {advice}"
    return Comparison(test, p_value, None, verdict, more)


def compare_all(
    variants: list[VariantResult], alpha: float = 0.05
) -> list[tuple[str, str, Comparison]]:
    """Every pair of variants (A/B, A/C, B/C, …), in label order."""
    labels = [variant.label for variant in variants]
    if len(set(labels)) != len(labels):
        raise ValueError(f"variant labels must be unique, got {labels}")
    ordered = sorted(variants, key=lambda variant: variant.label)
    return [
        (first.label, second.label, compare(first, second, alpha=alpha))
        for first, second in itertools.combinations(ordered, 2)
    ]
