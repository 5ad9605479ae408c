"""Campaign statistics against published worked examples. Pure functions, no database.

Every published number below was also recomputed here (exact rational arithmetic where the
statistic allows it); where a source rounds, the comment says so.
"""

import itertools
import math
from fractions import Fraction
from statistics import NormalDist

import pytest

from campaigns.stats import (
    Comparison,
    Interval,
    compare,
    compare_all,
    fisher_exact_two_sided,
    normal_cdf,
    normal_quantile,
    sample_size_per_group,
    two_proportion_z_test,
    variant_result,
    wilson_interval,
)

# --- Helpers: independent references -------------------------------------------------------


def exact_fisher(a: int, b: int, c: int, d: int) -> Fraction:
    """Two-sided Fisher p by exact integers: tables no more likely than the observed one."""
    row1, row2, col1 = a + b, c + d, a + c
    weights = {
        k: math.comb(row1, k) * math.comb(row2, col1 - k)
        for k in range(max(0, col1 - row2), min(row1, col1) + 1)
    }
    observed = weights[a]
    return Fraction(sum(w for w in weights.values() if w <= observed), sum(weights.values()))


def one_sided_fisher_less(a: int, b: int, c: int, d: int) -> Fraction:
    """P(top-left <= a) with the margins fixed (R's alternative = "less")."""
    row1, row2, col1 = a + b, c + d, a + c
    low = max(0, col1 - row2)
    hits = sum(math.comb(row1, k) * math.comb(row2, col1 - k) for k in range(low, a + 1))
    return Fraction(hits, math.comb(row1 + row2, col1))


def power_prop_test(n: float, p1: float, p2: float, alpha: float = 0.05) -> float:
    """The power equation of R's power.prop.test (two-sided, strict = FALSE), as in R's
    src/library/stats/R/power.R: pnorm((sqrt(n)|p1 − p2| − z·sqrt((p1 + p2)(1 − (p1 + p2)/2)))
    / sqrt(p1(1 − p1) + p2(1 − p2)))."""
    z = NormalDist().inv_cdf(1 - alpha / 2)
    top = math.sqrt(n) * abs(p1 - p2) - z * math.sqrt((p1 + p2) * (1 - (p1 + p2) / 2))
    return NormalDist().cdf(top / math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)))


# --- Normal distribution -------------------------------------------------------------------


def test_it_inverts_the_normal_cdf_to_double_precision():
    # The reference is the standard library's NormalDist.inv_cdf (Wichura's AS241, an
    # independent algorithm); the usual table values are z(0.975) = 1.959964 and
    # z(0.80) = 0.841621.
    assert normal_quantile(0.975) == pytest.approx(1.959963984540054, abs=1e-15)
    assert normal_quantile(0.80) == pytest.approx(0.8416212335729143, abs=1e-15)
    assert normal_quantile(0.5) == 0.0
    reference = NormalDist()
    probabilities = [10.0**-k for k in range(1, 301, 7)] + [i / 1000 for i in range(1, 1000)]
    probabilities += [1 - 10.0**-k for k in range(1, 16)]
    for p in probabilities:
        assert normal_quantile(p) == pytest.approx(reference.inv_cdf(p), abs=1e-12), p
        assert normal_cdf(normal_quantile(p)) == pytest.approx(p, rel=1e-12), p


def test_it_refuses_a_normal_quantile_outside_0_and_1():
    for p in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="0 < p < 1"):
            normal_quantile(p)


# --- Wilson interval -----------------------------------------------------------------------


# Newcombe, R. G. (1998). "Two-sided confidence intervals for the single proportion:
# comparison of seven methods." Statistics in Medicine 17:857–872, Table I, method 3 (Wilson
# score interval without continuity correction), 95% intervals for its four illustrative
# cases. Recomputed here to 1e-10 they are 81/263 → (0.255289, 0.366210),
# 15/148 → (0.062386, 0.160487), 0/20 → (0, 0.161125), 1/29 → (0.006113, 0.171755): they
# agree with the published four decimals (no correction needed).
NEWCOMBE_TABLE_I_WILSON = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("successes", "trials", "low", "high"), NEWCOMBE_TABLE_I_WILSON)
def test_it_matches_newcombes_published_wilson_intervals(successes, trials, low, high):
    interval = wilson_interval(successes, trials)

    assert round(interval.low, 4) == low
    assert round(interval.high, 4) == high


@pytest.mark.parametrize(("successes", "trials"), [(81, 263), (15, 148), (1, 29), (7, 7), (3, 10)])
def test_it_puts_the_wilson_bounds_where_the_score_test_is_exactly_at_1_96(successes, trials):
    # By definition (Wilson 1927) each bound p0 solves |p̂ − p0| = z·sqrt(p0(1 − p0)/n).
    z = NormalDist().inv_cdf(0.975)
    p_hat = successes / trials
    for bound in (wilson_interval(successes, trials).low, wilson_interval(successes, trials).high):
        if bound in (0.0, 1.0) and bound == p_hat:
            continue  # the bound at an observed 0% or 100% is the boundary itself
        score = abs(p_hat - bound) / math.sqrt(bound * (1 - bound) / trials)
        assert score == pytest.approx(z, rel=1e-9)


def test_it_widens_the_interval_with_the_confidence_level():
    ninety = wilson_interval(15, 148, confidence=0.90)
    ninety_five = wilson_interval(15, 148)
    ninety_nine = wilson_interval(15, 148, confidence=0.99)

    assert ninety_nine.low < ninety_five.low < ninety.low < 15 / 148
    assert 15 / 148 < ninety.high < ninety_five.high < ninety_nine.high


def test_it_mirrors_the_interval_between_replies_and_silences():
    interval = wilson_interval(4, 30)
    mirrored = wilson_interval(26, 30)

    assert mirrored.low == pytest.approx(1 - interval.high, abs=1e-15)
    assert mirrored.high == pytest.approx(1 - interval.low, abs=1e-15)


def test_it_pins_the_interval_to_0_and_1_when_nobody_or_everybody_replied():
    assert wilson_interval(0, 20) == Interval(low=0.0, high=pytest.approx(0.1611, abs=5e-5))
    everybody = wilson_interval(20, 20)
    assert everybody.high == 1.0
    assert everybody.low == pytest.approx(1 - 0.16112515805281935, abs=1e-12)


def test_it_gives_no_interval_without_sends():
    assert wilson_interval(0, 0) is None


@pytest.mark.parametrize(
    ("successes", "trials", "message"),
    [(5, 4, "cannot exceed"), (-1, 4, "must not be negative"), (0, -1, "must not be negative")],
)
def test_it_rejects_impossible_counts_for_an_interval(successes, trials, message):
    with pytest.raises(ValueError, match=message):
        wilson_interval(successes, trials)


def test_it_rejects_a_confidence_level_outside_0_and_1():
    for confidence in (0.0, 1.0, 95):
        with pytest.raises(ValueError, match="confidence"):
            wilson_interval(3, 10, confidence=confidence)


# --- Fisher's exact test -------------------------------------------------------------------


def test_it_reproduces_the_lady_tasting_tea():
    # Fisher (1935), The Design of Experiments, ch. 2; R's fisher.test help page (stats),
    # example "TeaTasting" = matrix(c(3, 1, 1, 3), nrow = 2) (Agresti 1990 p. 61f; 2002
    # p. 91): one-sided p = 0.2429. The table probabilities are (1, 16, 36, 16, 1)/70, so the
    # two-sided p is (1 + 16 + 16 + 1)/70 = 17/35 = 0.4857 (R: fisher.test(TeaTasting)).
    assert float(one_sided_fisher_less(1, 3, 3, 1)) == pytest.approx(0.2429, abs=5e-5)
    p = fisher_exact_two_sided(3, 1, 1, 3)

    assert p == pytest.approx(17 / 35, rel=1e-12)
    assert round(p, 4) == 0.4857


def test_it_reproduces_the_wikipedia_dieting_example():
    # Wikipedia, "Fisher's exact test", Example: 1 of 12 men and 9 of 12 women are dieting,
    # table [[1, 9], [11, 3]]; two-sided p ≈ 0.002759 (exactly 41/14858).
    p = fisher_exact_two_sided(1, 9, 11, 3)

    assert p == pytest.approx(41 / 14858, rel=1e-12)
    assert round(p, 6) == 0.002759


def test_it_reproduces_the_scipy_whales_and_sharks_example():
    # SciPy documentation, scipy.stats.fisher_exact, Examples: whales and sharks in the
    # Atlantic and Indian oceans, table [[8, 2], [1, 5]]; two-sided p = 0.0349650...
    # (exactly 5/143).
    p = fisher_exact_two_sided(8, 2, 1, 5)

    assert p == pytest.approx(5 / 143, rel=1e-12)
    assert round(p, 7) == 0.0349650


def test_it_reproduces_the_r_convictions_of_twins_example():
    # R's fisher.test help page, "Convictions" (Fisher 1962, 1970): convictions of like-sex
    # twins, matrix(c(2, 10, 15, 3), nrow = 2) = [[2, 15], [10, 3]]; the page's
    # fisher.test(Convictions, alternative = "less") gives p = 0.0004652. That checks the table
    # is read the way R reads it; the two-sided p is then exactly 3571/6653325 = 0.0005367.
    assert round(float(one_sided_fisher_less(2, 15, 10, 3)), 7) == 0.0004652
    p = fisher_exact_two_sided(2, 15, 10, 3)

    assert p == pytest.approx(3571 / 6653325, rel=1e-12)


def test_it_agrees_with_exact_arithmetic_on_every_small_table_including_ties():
    # Every table with at most 14 observations (3,060 of them), ties included: symmetric
    # margins make tables exactly as likely as the observed one, and they must count.
    for total in range(15):
        for a, b, c in itertools.product(range(total + 1), repeat=3):
            d = total - a - b - c
            if d < 0:
                continue
            expected = float(exact_fisher(a, b, c, d))
            assert fisher_exact_two_sided(a, b, c, d) == pytest.approx(expected, rel=1e-9)


def test_it_gives_the_same_fisher_p_for_swapped_rows_columns_and_transpose():
    p = fisher_exact_two_sided(2, 15, 10, 3)

    assert fisher_exact_two_sided(10, 3, 2, 15) == pytest.approx(p, rel=1e-12)
    assert fisher_exact_two_sided(15, 2, 3, 10) == pytest.approx(p, rel=1e-12)
    assert fisher_exact_two_sided(2, 10, 15, 3) == pytest.approx(p, rel=1e-12)


def test_it_handles_large_tables_without_overflow():
    # Exact big-integer reference for a mid-sized table, then a table far beyond float range
    # for factorials (the mammogram study below): finite, and close to the z-test there.
    assert fisher_exact_two_sided(30, 170, 55, 145) == pytest.approx(
        float(exact_fisher(30, 170, 55, 145)), rel=1e-9
    )
    p = fisher_exact_two_sided(500, 44_425, 505, 44_405)
    assert 0.8 < p <= 1.0
    assert fisher_exact_two_sided(0, 5_000, 100, 4_900) < 1e-25


def test_it_gives_p_1_when_only_one_table_fits_the_margins():
    assert fisher_exact_two_sided(0, 0, 0, 0) == 1.0
    assert fisher_exact_two_sided(0, 0, 3, 7) == 1.0  # nothing sent in one variant
    assert fisher_exact_two_sided(0, 5, 0, 7) == 1.0  # nobody replied anywhere
    assert fisher_exact_two_sided(5, 0, 7, 0) == 1.0  # everybody replied


def test_it_rejects_negative_cells_for_fisher():
    with pytest.raises(ValueError, match="must not be negative"):
        fisher_exact_two_sided(1, -1, 2, 3)


# --- Two-proportion z-test -----------------------------------------------------------------


def test_it_reproduces_the_openintro_mammogram_z_test():
    # OpenIntro Statistics, 3rd ed. (Diez, Barr & Çetinkaya-Rundel), §6.2.3 "Hypothesis
    # tests for p1 − p2", the mammogram study: breast cancer deaths 500 of 44,925
    # (mammogram) vs 505 of 44,910 (control). Published: pooled p̂ = 0.0112, SE = 0.00070,
    # Z = −0.17, p-value = 0.8650. The book rounds the difference to −0.00012 before
    # dividing; unrounded, the difference is −0.00011505, SE = 0.00070182, so Z = −0.1639
    # and p = 0.8698 (Z rounds to −0.16, not −0.17). The book's own step checks our normal
    # tail: 2 × P(Z < −0.17) = 0.8650.
    z, p = two_proportion_z_test(500, 44_925, 505, 44_910)

    assert z == pytest.approx(-0.1639, abs=5e-5)
    assert p == pytest.approx(0.8698, abs=5e-5)
    assert round(2 * normal_cdf(-0.17), 4) == 0.8650
    assert round((1_005 / 89_835), 4) == 0.0112  # the published pooled proportion


def test_it_computes_the_z_test_by_hand_for_20_of_100_vs_10_of_100():
    # By hand: pooled p̂ = 30/200 = 0.15; SE = sqrt(0.15 × 0.85 × (1/100 + 1/100))
    # = sqrt(0.00255) = 0.050498; z = (0.20 − 0.10)/0.050498 = 1.9803; two-sided
    # p = 2 × (1 − Φ(1.9803)) = 0.0477 — just under 0.05.
    z, p = two_proportion_z_test(20, 100, 10, 100)

    assert z == pytest.approx(0.1 / math.sqrt(0.00255), rel=1e-12)
    assert round(z, 4) == 1.9803
    assert round(p, 4) == 0.0477


def test_it_matches_the_pearson_chi_square_identity():
    # For a 2x2 table z² equals Pearson's X² without continuity correction (what R's
    # prop.test(correct = FALSE) and chisq.test(correct = FALSE) report).
    for x1, n1, x2, n2 in [(18, 200, 36, 200), (500, 44_925, 505, 44_910), (7, 40, 19, 61)]:
        observed = [x1, n1 - x1, x2, n2 - x2]
        rows, columns, total = (n1, n1, n2, n2), (x1 + x2, n1 + n2 - x1 - x2) * 2, n1 + n2
        expected = [rows[i] * columns[i] / total for i in range(4)]
        chi_square = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))

        z, p = two_proportion_z_test(x1, n1, x2, n2)

        assert z * z == pytest.approx(chi_square, rel=1e-10)
        # P(χ²₁ > X²) = erfc(sqrt(X²/2)), the same p.
        assert p == pytest.approx(math.erfc(math.sqrt(chi_square / 2)), rel=1e-10)


def test_it_signs_z_by_which_rate_is_higher():
    z, p = two_proportion_z_test(36, 200, 18, 200)
    z_swapped, p_swapped = two_proportion_z_test(18, 200, 36, 200)

    assert z > 0
    assert z_swapped == -z
    assert p_swapped == p


def test_it_gives_z_0_and_p_1_when_nobody_or_everybody_replied():
    assert two_proportion_z_test(0, 50, 0, 80) == (0.0, 1.0)
    assert two_proportion_z_test(50, 50, 80, 80) == (0.0, 1.0)


def test_it_rejects_impossible_counts_for_the_z_test():
    with pytest.raises(ValueError, match="at least one trial"):
        two_proportion_z_test(0, 0, 3, 10)
    with pytest.raises(ValueError, match="cannot exceed"):
        two_proportion_z_test(11, 10, 3, 10)
    with pytest.raises(ValueError, match="must not be negative"):
        two_proportion_z_test(-1, 10, 3, 10)


# --- Sample size ---------------------------------------------------------------------------


def test_it_matches_r_power_prop_test():
    # R, stats::power.prop.test help page example: power.prop.test(p1 = .50, p2 = .75,
    # power = .90) gives n = 76.7 per group. R solves the same equation numerically
    # (src/library/stats/R/power.R); the closed form gives 76.707, rounded up to 77.
    assert sample_size_per_group(0.50, 0.75, power=0.90) == 77
    assert power_prop_test(76.707, 0.50, 0.75) == pytest.approx(0.90, abs=1e-4)


@pytest.mark.parametrize(
    ("p1", "p2", "expected"),
    [
        # Fleiss, Levin & Paik, Statistical Methods for Rates and Proportions, 3rd ed. (2003),
        # ch. 4: the sample size before the continuity correction, the formula used here:
        # (1.959964·sqrt(2·0.125·0.875) + 0.841621·sqrt(0.09 + 0.1275))² / 0.05² = 685.60
        # → 686 per group, as the brief expected.
        (0.10, 0.15, 686),
        # (1.959964·sqrt(2·0.55·0.45) + 0.841621·sqrt(0.25 + 0.24))² / 0.1² = 387.34 → 388.
        # CORRECTED: the brief expected 387, but sample sizes are rounded up, so 388 (387
        # per group gives a power just under 80%, checked below).
        (0.50, 0.60, 388),
    ],
)
def test_it_computes_the_sends_per_group_for_80_percent_power(p1, p2, expected):
    n = sample_size_per_group(p1, p2)

    assert n == expected
    assert sample_size_per_group(p2, p1) == expected
    assert power_prop_test(n, p1, p2) >= 0.80
    assert power_prop_test(n - 1, p1, p2) < 0.80


def test_it_needs_more_sends_for_smaller_differences_and_stricter_tests():
    assert sample_size_per_group(0.10, 0.12) > sample_size_per_group(0.10, 0.15)
    assert sample_size_per_group(0.10, 0.15, alpha=0.01) > sample_size_per_group(0.10, 0.15)
    assert sample_size_per_group(0.10, 0.15, power=0.90) > sample_size_per_group(0.10, 0.15)


def test_it_has_no_sample_size_for_equal_rates():
    assert sample_size_per_group(0.2, 0.2) is None
    assert sample_size_per_group(0.0, 0.0) is None


def test_it_sizes_the_extreme_rates_too():
    # 0% vs 100%: (1.959964·sqrt(0.5))² / 1 = 1.92 → 2 per group.
    assert sample_size_per_group(0.0, 1.0) == 2


def test_it_rejects_probabilities_outside_0_and_1_for_the_sample_size():
    with pytest.raises(ValueError, match="p1"):
        sample_size_per_group(-0.1, 0.2)
    with pytest.raises(ValueError, match="p2"):
        sample_size_per_group(0.1, 1.2)
    with pytest.raises(ValueError, match="alpha"):
        sample_size_per_group(0.1, 0.2, alpha=0)
    with pytest.raises(ValueError, match="power"):
        sample_size_per_group(0.1, 0.2, power=1)


# --- Variant results -----------------------------------------------------------------------


def test_it_counts_replies_out_of_sends_not_enrolments():
    result = variant_result("A", enrolled=263, sent=200, replied=30)

    assert (result.label, result.enrolled, result.sent, result.replied) == ("A", 263, 200, 30)
    assert result.rate == 0.15
    assert result.interval == wilson_interval(30, 200)


def test_it_has_no_rate_for_a_variant_that_sent_nothing():
    result = variant_result("B", enrolled=40, sent=0, replied=0)

    assert result.rate is None
    assert result.interval is None


def test_it_reports_all_replied_and_none_replied():
    everybody = variant_result("A", enrolled=12, sent=12, replied=12)
    nobody = variant_result("B", enrolled=12, sent=12, replied=0)

    assert everybody.rate == 1.0
    assert everybody.interval.high == 1.0
    assert nobody.rate == 0.0
    assert nobody.interval.low == 0.0


def test_it_refuses_more_replies_than_sends():
    with pytest.raises(ValueError, match=r"variant 'A': replied \(6\) cannot exceed sent \(5\)"):
        variant_result("A", enrolled=10, sent=5, replied=6)


@pytest.mark.parametrize("counts", [(-1, 0, 0), (5, -1, 0), (5, 3, -1)])
def test_it_refuses_negative_counts(counts):
    enrolled, sent, replied = counts

    with pytest.raises(ValueError, match="must not be negative"):
        variant_result("A", enrolled=enrolled, sent=sent, replied=replied)


# --- Comparing variants --------------------------------------------------------------------


def test_it_declares_a_winner_with_the_z_test_on_large_counts():
    # 18/200 vs 36/200: expected replies 27 per variant, so the z-test. Pooled p̂ = 0.135,
    # SE = sqrt(0.135 × 0.865 × 0.01) = 0.034172, z = 0.09/0.034172 = 2.634, p = 0.0084.
    a = variant_result("A", enrolled=250, sent=200, replied=18)
    b = variant_result("B", enrolled=240, sent=200, replied=36)

    comparison = compare(a, b)

    assert comparison == Comparison(
        test="z-test",
        p_value=pytest.approx(two_proportion_z_test(18, 200, 36, 200)[1], rel=1e-15),
        winner="B",
        verdict="B wins: 18.0% vs 9.0% replies (p = 0.0084, two-proportion z-test).",
        more_sends_needed=None,
    )
    assert round(comparison.p_value, 4) == 0.0084


def test_it_uses_fisher_when_an_expected_cell_is_below_5():
    # 1/20 vs 6/20: 7 replies over 40 sends, so 3.5 replies expected per variant.
    a = variant_result("A", enrolled=20, sent=20, replied=1)
    b = variant_result("B", enrolled=20, sent=20, replied=6)

    comparison = compare(a, b)

    assert comparison.test == "fisher"
    assert comparison.p_value == pytest.approx(float(exact_fisher(1, 19, 6, 14)), rel=1e-12)
    assert comparison.winner is None  # p = 0.0915
    # sample_size_per_group(0.05, 0.30) = 36 per variant, each has 20: 16 more.
    assert sample_size_per_group(0.05, 0.30) == 36
    assert comparison.more_sends_needed == 16
    assert comparison.verdict == (
        "No winner yet (p = 0.091, Fisher's exact test): about 16 more sends per variant "
        "would detect a 25.0-point difference with 80% power."
    )


def test_it_switches_to_the_z_test_when_every_expected_cell_reaches_5():
    # 10/20 vs 0/20: 10 replies expected to split 5 and 5 — exactly 5, so the z-test.
    # 9/20 vs 0/20: 4.5 expected, so Fisher.
    assert compare(variant_result("A", 20, 20, 10), variant_result("B", 20, 20, 0)).test == (
        "z-test"
    )
    assert compare(variant_result("A", 20, 20, 9), variant_result("B", 20, 20, 0)).test == (
        "fisher"
    )
    # The silences count too: 19/20 vs 20/20 leaves 0.5 non-replies expected per variant.
    assert compare(variant_result("A", 20, 20, 19), variant_result("B", 20, 20, 20)).test == (
        "fisher"
    )


def test_it_says_no_winner_yet_and_how_many_more_sends_with_the_z_test():
    # 10/100 vs 14/100: z = 0.87, p = 0.38. sample_size_per_group(0.10, 0.14) = 1035, each
    # variant has sent 100: 935 more per variant.
    a = variant_result("A", enrolled=120, sent=100, replied=10)
    b = variant_result("B", enrolled=120, sent=100, replied=14)

    comparison = compare(a, b)

    assert comparison.test == "z-test"
    assert comparison.winner is None
    assert sample_size_per_group(0.10, 0.14) == 1035
    assert comparison.more_sends_needed == 935
    assert comparison.verdict == (
        "No winner yet (p = 0.38, two-proportion z-test): about 935 more sends per variant "
        "would detect a 4.0-point difference with 80% power."
    )


def test_it_counts_more_sends_from_the_variant_that_sent_fewer():
    # 12/150 = 8% vs 18/120 = 15%: p = 0.069, no winner; sample_size_per_group(0.08, 0.15)
    # = 325, and the smaller variant has sent 120: 205 more per variant.
    a = variant_result("A", enrolled=300, sent=150, replied=12)
    b = variant_result("B", enrolled=300, sent=120, replied=18)

    comparison = compare(a, b)

    assert comparison.winner is None
    assert sample_size_per_group(0.08, 0.15) == 325
    assert comparison.more_sends_needed == 205
    assert "about 205 more sends per variant would detect a 7.0-point difference" in (
        comparison.verdict
    )


def test_it_declares_a_winner_only_below_alpha():
    # 14/100 vs 25/100: p = 0.0496, just under 0.05 — shown with three figures so that it does
    # not read "p = 0.050". 15/100 vs 25/100: pooled 0.20, SE = sqrt(0.2 × 0.8 × 0.02)
    # = 0.056569, z = 1.7678, p = 0.0771 — no winner at 0.05, a winner at 0.10.
    close = compare(variant_result("A", 100, 100, 14), variant_result("B", 100, 100, 25))
    assert close.p_value == pytest.approx(0.0496, abs=5e-5)
    assert close.winner == "B"
    assert close.verdict == "B wins: 25.0% vs 14.0% replies (p = 0.0496, two-proportion z-test)."

    a, b = variant_result("A", 100, 100, 15), variant_result("B", 100, 100, 25)
    assert compare(a, b).p_value == pytest.approx(0.0771, abs=5e-5)
    assert compare(a, b).winner is None
    assert compare(a, b, alpha=0.10).winner == "B"
    assert compare(a, b, alpha=0.10).more_sends_needed is None


def test_it_names_the_winner_whichever_side_it_is_on():
    a = variant_result("A", enrolled=200, sent=200, replied=36)
    b = variant_result("B", enrolled=200, sent=200, replied=18)

    forwards, backwards = compare(a, b), compare(b, a)

    assert forwards.winner == backwards.winner == "A"
    assert forwards.p_value == backwards.p_value
    assert forwards.verdict == backwards.verdict


def test_it_declares_a_winner_when_everybody_replied_to_one_and_nobody_to_the_other():
    # 8/8 vs 0/8: 4 expected per cell, Fisher; p = 2/C(16, 8) = 2/12870 = 0.000155.
    comparison = compare(variant_result("A", 8, 8, 8), variant_result("B", 8, 8, 0))

    assert comparison.test == "fisher"
    assert comparison.p_value == pytest.approx(2 / 12870, rel=1e-12)
    assert comparison.winner == "A"
    assert comparison.verdict == "A wins: 100.0% vs 0.0% replies (p < 0.001, Fisher's exact test)."


def test_it_waits_for_sends_before_comparing():
    nothing_sent = variant_result("A", enrolled=50, sent=0, replied=0)
    some_sent = variant_result("B", enrolled=50, sent=30, replied=6)

    for comparison in (compare(nothing_sent, some_sent), compare(nothing_sent, nothing_sent)):
        assert comparison == Comparison(
            test="fisher",
            p_value=1.0,
            winner=None,
            verdict="Not enough sends to compare yet.",
            more_sends_needed=None,
        )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((60, 50, 5), (130, 100, 10)),  # 10% both, different enrolment and sends
        ((30, 30, 0), (40, 40, 0)),  # nobody replied
        ((30, 30, 30), (40, 40, 40)),  # everybody replied
    ],
)
def test_it_reports_no_difference_for_equal_rates(a, b):
    comparison = compare(variant_result("A", *a), variant_result("B", *b))

    assert comparison.winner is None
    assert comparison.verdict == "No difference in reply rates so far."
    assert comparison.more_sends_needed is None
    assert comparison.p_value == pytest.approx(1.0)


def test_it_ignores_enrolment_when_comparing():
    # Same sends and replies, very different enrolment: the rates are equal.
    comparison = compare(variant_result("A", 1_000, 80, 8), variant_result("B", 90, 80, 8))

    assert comparison.verdict == "No difference in reply rates so far."


def test_it_keeps_sending_when_the_estimate_is_already_met_at_tiny_counts():
    # 0/2 vs 2/2: Fisher p = 1/3; the normal estimate for 0% vs 100% is 2 per variant, which
    # both already have — Fisher's test is conservative at such counts.
    comparison = compare(variant_result("A", 2, 2, 0), variant_result("B", 2, 2, 2))

    assert comparison.p_value == pytest.approx(1 / 3)
    assert comparison.winner is None
    assert comparison.more_sends_needed == 0
    assert comparison.verdict == (
        "No winner yet (p = 0.33, Fisher's exact test): keep sending: each variant already "
        "has the 2 sends that the usual estimate gives for detecting a 100.0-point difference "
        "with 80% power, but that estimate is approximate at these counts."
    )


# --- All pairs -----------------------------------------------------------------------------


def test_it_compares_every_pair_in_label_order():
    c = variant_result("C", enrolled=210, sent=200, replied=30)
    a = variant_result("A", enrolled=210, sent=200, replied=18)
    b = variant_result("B", enrolled=210, sent=200, replied=36)

    pairs = compare_all([c, a, b])

    assert [(first, second) for first, second, _ in pairs] == [("A", "B"), ("A", "C"), ("B", "C")]
    assert pairs[0][2] == compare(a, b)
    assert pairs[1][2] == compare(a, c)
    assert pairs[2][2] == compare(b, c)


def test_it_has_no_pairs_for_a_single_variant():
    assert compare_all([variant_result("A", 10, 10, 1)]) == []
    assert compare_all([]) == []


def test_it_refuses_duplicate_labels():
    with pytest.raises(ValueError, match="unique"):
        compare_all([variant_result("A", 10, 10, 1), variant_result("A", 10, 10, 2)])
