"""The forecast's settings: parameters `forecast.*` of the measure catalogue (overridable with --params)."""

from __future__ import annotations

from dataclasses import dataclass

from dagster_project.lib.measures.parameters import Parameters

from .series import SeriesSettings


@dataclass(frozen=True)
class ForecastSettings:
    draws: int  # simulated scenarios while something is still to be forecast
    seed: int  # of the random draws: the same inputs give the same draws
    quantile_low: float  # `low` = this quantile of each simulated outcome
    quantile_high: float
    series: SeriesSettings
    history_years: int  # the panels read from January this many years before the policy year's
    min_power_days: int  # days of daily power in a month before it counts as a signal for that month
    power_max_adjustment: float  # the power moves a month's output forecast by this factor at most, either way
    pace_prior: float  # pseudo-count that shrinks this year's pace of new events toward last year's
    pace_from_month: int  # the year's pace of new events counts from this month (a January batch is no pace)
    count_dispersion: float  # negative binomial size of the number of future events (smaller: wider)
    start_prior: float  # beta prior count on each side of the monthly start rate of waiting projects
    rest_prior: float  # the count taken for last year's register rows after the same day where it had none (new_events.pace)
    new_destination_prior: float  # examples of a new destination's later month: half one-off (0), half repeated (1)
    completion_quantile: float  # a project's forecast stops at this quantile of completed projects' total over plan
    completion_share_fallback: float  # ... or at this share of its plan where too few projects have completed
    register_lag_max_days: int  # a register row is keyed in within this many days of its date
    register_copy_share: float  # a register version repeating this share of the rows before it is a whole copy

    @classmethod
    def from_parameters(cls, params: Parameters) -> ForecastSettings:
        def number(pid: str) -> float:
            return float(params.base(f"forecast.{pid}"))

        def whole(pid: str) -> int:
            return int(params.base(f"forecast.{pid}"))

        return cls(
            draws=whole("draws"),
            seed=whole("seed"),
            quantile_low=number("quantile_low"),
            quantile_high=number("quantile_high"),
            series=SeriesSettings(
                growth_window=whole("growth_window_months"),
                min_growth_months=whole("min_growth_months"),
                runway_bounds=tuple(sorted({number("runway_short_below"), number("runway_long_from")})),
                min_peers=whole("min_peers"),
                own_seasonal=True,
                training_months=whole("training_months"),
                min_group_entities=whole("min_group_entities"),
                min_error_samples=whole("min_error_samples"),
                fallback_spread=number("fallback_spread"),
                size_classes=whole("size_classes"),
                min_origins=whole("min_origins"),
                common_jitter=number("common_jitter"),
                untested_step_spread=number("untested_step_spread"),
                own_deviation_cap=number("own_deviation_cap"),
                group_outlier_factor=number("group_outlier_factor"),
                late_report_months=whole("late_report_months"),
                plan_bounds_to=number("plan_bounds_to"),
                age_bands=tuple(sorted({number("young_project_months"), number("old_project_months")} - {0.0})),
                ramp_up_months=whole("ramp_up_months"),
            ),
            history_years=whole("history_years"),
            min_power_days=whole("min_power_days"),
            power_max_adjustment=number("power_max_adjustment"),
            pace_prior=number("pace_prior"),
            pace_from_month=whole("pace_from_month"),
            count_dispersion=number("count_dispersion"),
            start_prior=number("start_prior"),
            rest_prior=number("rest_prior"),
            new_destination_prior=number("new_destination_prior"),
            completion_quantile=number("completion_quantile"),
            completion_share_fallback=number("completion_share_fallback"),
            register_lag_max_days=whole("register_lag_max_days"),
            register_copy_share=number("register_copy_share"),
        )
