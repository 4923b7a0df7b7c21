"""What a reviewed sample says about the whole week.

The reviewed unnecessary-escalation rate is the stratified estimate

    p = sum_h N_h p_h / sum_h N_h

where p_h is the share of the stratum's reviewed escalations judged "should not have
been escalated" (verdicts 'yes'/'no'; 'unsure' and unreviewed ones are left out of
p_h), with variance

    V = sum_h (N_h / N)^2 (1 - m_h / N_h) s_h^2 / m_h,   s_h^2 = m_h / (m_h - 1) p_h (1 - p_h)

and a 95% interval p +- 1.96 sqrt(V), clipped to [0, 1]. A stratum with one reviewed
escalation out of several gets the largest possible s_h^2 (0.25): an honest, wider
interval rather than a false zero. Strata with no usable verdict are left out and
the share of the week they stand for is reported as `coverage`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

Z95 = 1.959964


@dataclass(frozen=True)
class Estimate:
    value: float | None
    ci_low: float | None
    ci_high: float | None
    reviewed: int
    population: int
    coverage: float  # share of the population in strata with at least one usable verdict


def stratified_rate(items: pl.DataFrame, outcome: str = "is_unnecessary") -> Estimate:
    """`items`: one row per sampled escalation with stratum, stratum_population and the
    0/1/null `outcome` (null = not reviewed, or 'unsure')."""
    strata = items.group_by("stratum").agg(
        N=pl.col("stratum_population").first().cast(pl.Float64),
        m=pl.col(outcome).is_not_null().sum().cast(pl.Float64),
        p=pl.col(outcome).cast(pl.Float64).mean(),
    )
    population = float(strata["N"].sum())
    usable = strata.filter(pl.col("m") > 0)
    if usable.is_empty():
        return Estimate(None, None, None, 0, int(population), 0.0)
    covered = float(usable["N"].sum())
    terms = usable.with_columns(
        s2=pl.when(pl.col("m") >= pl.col("N"))
        .then(0.0)
        .when(pl.col("m") == 1)
        .then(0.25)
        .otherwise(pl.col("m") / (pl.col("m") - 1) * pl.col("p") * (1 - pl.col("p")))
    ).with_columns(
        weighted=pl.col("N") * pl.col("p"),
        var=(pl.col("N") / covered) ** 2
        * (1 - pl.col("m") / pl.col("N"))
        * pl.col("s2")
        / pl.col("m"),
    )
    value = float(terms["weighted"].sum()) / covered
    half = Z95 * float(terms["var"].sum()) ** 0.5
    return Estimate(
        value=value,
        ci_low=max(0.0, value - half),
        ci_high=min(1.0, value + half),
        reviewed=int(usable["m"].sum()),
        population=int(population),
        coverage=covered / population if population else 0.0,
    )


@dataclass(frozen=True)
class Agreement:
    both_unnecessary: int
    rules_only: int
    reviewers_only: int
    both_needed: int

    @property
    def n(self) -> int:
        return self.both_unnecessary + self.rules_only + self.reviewers_only + self.both_needed

    @property
    def observed(self) -> float | None:
        return (self.both_unnecessary + self.both_needed) / self.n if self.n else None

    @property
    def kappa(self) -> float | None:
        """Cohen's kappa: agreement beyond what chance alone would give."""
        observed = self.observed  # None exactly when there is nothing to compare
        if observed is None:
            return None
        rules_yes = (self.both_unnecessary + self.rules_only) / self.n
        review_yes = (self.both_unnecessary + self.reviewers_only) / self.n
        chance = rules_yes * review_yes + (1 - rules_yes) * (1 - review_yes)
        return None if chance == 1 else (observed - chance) / (1 - chance)

    @property
    def rule_precision(self) -> float | None:
        """Of the escalations the rules flag, the share reviewers agree were unnecessary."""
        flagged = self.both_unnecessary + self.rules_only
        return self.both_unnecessary / flagged if flagged else None


def agreement(
    items: pl.DataFrame, rules: str = "is_rule_unnecessary", outcome: str = "is_unnecessary"
) -> Agreement:
    """Rules against reviewers on the escalations with a yes/no verdict."""
    judged = items.filter(pl.col(outcome).is_not_null())
    r, v = pl.col(rules).fill_null(False), pl.col(outcome).cast(pl.Boolean)
    counts = judged.select(
        both_unnecessary=(r & v).sum(),
        rules_only=(r & ~v).sum(),
        reviewers_only=(~r & v).sum(),
        both_needed=(~r & ~v).sum(),
    ).row(0, named=True)
    return Agreement(**{k: int(c or 0) for k, c in counts.items()})
