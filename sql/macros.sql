-- Shared SQL functions, created before the models run and kept in the database
-- so that `tierlens kpis` and the dashboard aggregate exactly as the marts do.

-- L1 -> 1, L2 -> 2, ...
create or replace macro tier_rank(tier) as cast(substr(tier, 2, 1) as integer);

-- Minutes between two timestamps, as a double.
create or replace macro minutes_between(start_at, end_at) as
    epoch(end_at) / 60.0 - epoch(start_at) / 60.0;

-- The UTC day of a moment, as days since 1970-01-01: the key of config.calendar_days.
create or replace macro utc_day(moment) as cast(floor(epoch(moment) / 86400) as bigint);

-- The business clock at a moment: the business minutes of the ticket's calendar
-- before it. minutes_before, starts and ends are the moment's row of
-- config.calendar_days (joined on the calendar and utc_day(moment)): the business
-- minutes before that day, and the day's working periods in epoch minutes. With no
-- calendar (clock_calendar null, also for a 24x7 calendar) the clock is wall-clock
-- minutes, so a difference of two readings is minutes_between. Business minutes
-- between two moments = the difference of their readings.
create or replace macro business_clock(moment, clock_calendar, minutes_before, starts, ends) as
    case
        when moment is null then null
        when clock_calendar is null then epoch(moment) / 60.0
        else coalesce(minutes_before, 0) + coalesce(
            list_sum(list_transform(
                range(1, len(starts) + 1),
                lambda i: greatest(least(epoch(moment) / 60.0, ends[i]) - starts[i], 0)
            )),
            0
        )
    end;

-- The week a moment falls in, in the reporting time zone, starting on the
-- configured weekday (offset in days from Monday).
create or replace macro reporting_week(moment, zone, week_start_offset) as
    cast(
        date_trunc('week', timezone(zone, moment) - to_days(week_start_offset))
        + to_days(week_start_offset)
        as date
    );

-- The value of a metric over a group of kpi_facts rows joined to
-- config.metric_facts, by its statistic (constant within a group). is_base marks
-- the rows of a ratio's denominator fact (median_ratio: median of the fact over
-- median of the base). Every aggregate of the case is computed for every group, so
-- each quantile is filtered to its own statistic: a quantile keeps every value it
-- sees, and unfiltered ones would hold each duration several times over.
create or replace macro kpi_value(stat, numerator, denominator, measure, is_base) as
    case stat
        when 'rate' then sum(numerator) / nullif(sum(denominator), 0)
        when 'share' then sum(numerator) / nullif(sum(denominator), 0)
        when 'median' then quantile_cont(measure, 0.5) filter (where stat = 'median')
        when 'p90' then quantile_cont(measure, 0.9) filter (where stat = 'p90')
        when 'count' then sum(numerator)
        when 'median_ratio' then
            quantile_cont(measure, 0.5) filter (where stat = 'median_ratio' and not is_base)
            / nullif(quantile_cont(measure, 0.5) filter (where stat = 'median_ratio' and is_base), 0)
    end;

-- The number of cases behind a metric value (its sample size); for a ratio, the
-- smaller of its two sides.
create or replace macro kpi_sample(stat, denominator, measure, is_base) as
    case
        when stat in ('rate', 'share') then count(denominator)
        when stat in ('median', 'p90') then count(measure)
        when stat = 'median_ratio' then least(
            count(measure) filter (where not is_base), count(measure) filter (where is_base)
        )
        else count(*)
    end;

-- 95% Wilson score interval for k successes out of n.
create or replace macro wilson_low(k, n) as
    case when n > 0 then greatest(0.0,
        (k / n + 1.959964 ^ 2 / (2 * n)
            - 1.959964 * sqrt((k / n) * (1 - k / n) / n + 1.959964 ^ 2 / (4 * n * n)))
        / (1 + 1.959964 ^ 2 / n))
    end;

create or replace macro wilson_high(k, n) as
    case when n > 0 then least(1.0,
        (k / n + 1.959964 ^ 2 / (2 * n)
            + 1.959964 * sqrt((k / n) * (1 - k / n) / n + 1.959964 ^ 2 / (4 * n * n)))
        / (1 + 1.959964 ^ 2 / n))
    end;

-- green / amber / red against a target; 'insufficient' under the minimum sample.
create or replace macro kpi_status(value, sample, min_sample, green_min, green_max, red_below, red_above) as
    case
        when value is null then 'n/a'
        when sample < min_sample then 'insufficient'
        when green_min is null and green_max is null and red_below is null and red_above is null
            then 'no target'
        when value < red_below or value > red_above then 'red'
        when (green_min is null or value >= green_min) and (green_max is null or value <= green_max)
            then 'green'
        else 'amber'
    end;
