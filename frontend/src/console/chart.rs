//! The daily chart, drawn as SVG without a library: bars for each day's captured volume, a line
//! for the success rate (succeeded / (succeeded + failed); no point on a day without attempts),
//! axis labels, a `<title>` tooltip per day, and a text summary plus a table of the figures
//! for people who cannot see the picture.
//!
//! The geometry ([`ChartModel`]) is integer arithmetic in tenths of a viewBox unit, computed
//! apart from the rendering: no float can turn into `NaN`, and a test can check it exactly.

use super::format;
use leptos::prelude::*;
use shared::api::admin::{DailyStat, DailyStats};

/// The viewBox, in units.
pub const WIDTH: i64 = 640;
pub const HEIGHT: i64 = 240;
/// Room for the volume labels (left), the rate labels (right) and the day labels (bottom).
pub const LEFT: i64 = 100;
pub const RIGHT: i64 = 52;
pub const TOP: i64 = 12;
pub const BOTTOM: i64 = 36;

/// The plot area, in tenths of a unit.
pub const PLOT_X: i64 = LEFT * 10;
pub const PLOT_Y: i64 = TOP * 10;
pub const PLOT_WIDTH: i64 = (WIDTH - LEFT - RIGHT) * 10;
pub const PLOT_HEIGHT: i64 = (HEIGHT - TOP - BOTTOM) * 10;

/// One day's bar and rate point, in tenths of a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub stat: DailyStat,
    /// The day's slot (the whole column, for the tooltip's hit area).
    pub slot_x: i64,
    pub slot_width: i64,
    pub x: i64,
    pub width: i64,
    pub y: i64,
    pub height: i64,
    /// The column's centre, where the rate point sits.
    pub center: i64,
    /// Success rate in per mille; `None` without attempts.
    pub rate: Option<i64>,
    pub rate_y: Option<i64>,
}

/// Everything the chart draws, and the figures of its summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartModel {
    pub currency: Option<String>,
    pub bars: Vec<Bar>,
    /// SVG path data of the rate line: `M` starts a run of days with attempts, `L` continues it.
    pub rate_path: String,
    pub max_volume: i64,
    pub total_volume: i64,
    pub total_count: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// The day with the largest volume (the first of equals), when any volume is positive.
    pub busiest: Option<DailyStat>,
}

/// `value` scaled by `numerator / denominator` without overflow; 0 when `denominator` is not
/// positive.
fn scale(value: i64, numerator: i64, denominator: i64) -> i64 {
    if denominator <= 0 {
        return 0;
    }
    let scaled = i128::from(value) * i128::from(numerator) / i128::from(denominator);
    i64::try_from(scaled).unwrap_or(i64::MAX)
}

impl ChartModel {
    pub fn new(stats: &DailyStats) -> ChartModel {
        let days = &stats.days;
        let n = i64::try_from(days.len()).unwrap_or(i64::MAX);
        // A negative volume cannot be drawn as a bar; it counts as none.
        let volume = |stat: &DailyStat| stat.volume_minor.max(0);
        let max_volume = days.iter().map(volume).max().unwrap_or(0);
        let bottom = PLOT_Y + PLOT_HEIGHT;

        let mut bars = Vec::with_capacity(days.len());
        let mut rate_path = String::new();
        let mut previous_had_rate = false;
        for (i, stat) in (0i64..).zip(days) {
            let slot_x = PLOT_X + scale(i, PLOT_WIDTH, n);
            let slot_width = PLOT_X + scale(i + 1, PLOT_WIDTH, n) - slot_x;
            // Bars take 70 % of their slot, at least a tenth of a unit.
            let width = (slot_width * 7 / 10).max(1);
            let x = slot_x + (slot_width - width) / 2;
            let height = scale(volume(stat), PLOT_HEIGHT, max_volume);
            let center = slot_x + slot_width / 2;
            let rate = format::success_rate(stat.succeeded, stat.failed);
            let rate_y = rate.map(|r| bottom - scale(r, PLOT_HEIGHT, 1000));
            match rate_y {
                Some(y) => {
                    let command = if previous_had_rate { 'L' } else { 'M' };
                    if !rate_path.is_empty() {
                        rate_path.push(' ');
                    }
                    rate_path.push_str(&format!("{command}{} {}", units(center), units(y)));
                    previous_had_rate = true;
                }
                None => previous_had_rate = false,
            }
            bars.push(Bar {
                stat: stat.clone(),
                slot_x,
                slot_width,
                x,
                width,
                y: bottom - height,
                height,
                center,
                rate,
                rate_y,
            });
        }

        let busiest = days
            .iter()
            .filter(|stat| volume(stat) > 0)
            .fold(None::<&DailyStat>, |best, stat| match best {
                Some(best) if volume(best) >= volume(stat) => Some(best),
                _ => Some(stat),
            })
            .cloned();
        ChartModel {
            currency: stats.currency.clone(),
            bars,
            rate_path,
            max_volume,
            total_volume: days.iter().map(volume).fold(0, i64::saturating_add),
            total_count: days.iter().map(|d| d.count).fold(0, i64::saturating_add),
            succeeded: days
                .iter()
                .map(|d| d.succeeded)
                .fold(0, i64::saturating_add),
            failed: days.iter().map(|d| d.failed).fold(0, i64::saturating_add),
            busiest,
        }
    }

    /// Which days get a label under the axis: at most about seven, always the first and last.
    pub fn labelled(&self) -> Vec<&Bar> {
        let n = self.bars.len();
        let step = n.div_ceil(7).max(1);
        self.bars
            .iter()
            .enumerate()
            .filter(|(i, _)| i % step == 0 || *i + 1 == n)
            .map(|(_, bar)| bar)
            .collect()
    }

    fn money(&self, minor: i64) -> String {
        match &self.currency {
            Some(code) => format::money(minor, code),
            None => minor.to_string(),
        }
    }

    /// The chart in words (the SVG's description, and the visible summary under it).
    pub fn summary(&self) -> String {
        let (Some(first), Some(last)) = (self.bars.first(), self.bars.last()) else {
            return "No days in this range.".to_string();
        };
        let range = format!(
            "{} to {}",
            format::day_long(&first.stat.day),
            format::day_long(&last.stat.day)
        );
        if self.total_count == 0 {
            return format!("No payments from {range}.");
        }
        let rate = match format::success_rate(self.succeeded, self.failed) {
            Some(rate) => format!("success rate {}", format::percent(rate)),
            None => "no completed attempts".to_string(),
        };
        let mut text = format!(
            "From {range}: {} captured, {} payments, {} succeeded and {} failed ({rate}).",
            self.money(self.total_volume),
            self.total_count,
            self.succeeded,
            self.failed,
        );
        if let Some(busiest) = &self.busiest {
            text.push_str(&format!(
                " Busiest day: {} with {}.",
                format::day_long(&busiest.day),
                self.money(busiest.volume_minor)
            ));
        }
        text
    }

    /// A day's tooltip.
    pub fn tooltip(&self, bar: &Bar) -> String {
        let stat = &bar.stat;
        let rate = match bar.rate {
            Some(rate) => format!("success rate {}", format::percent(rate)),
            None => "no attempts".to_string(),
        };
        format!(
            "{}: {} captured; {} payments, {} succeeded, {} failed; {rate}",
            format::day_long(&stat.day),
            self.money(stat.volume_minor),
            stat.count,
            stat.succeeded,
            stat.failed
        )
    }
}

/// Tenths of a unit as an SVG number: `1234` → `"123.4"`, `50` → `"5"`.
pub fn units(tenths: i64) -> String {
    let sign = if tenths < 0 { "-" } else { "" };
    let magnitude = tenths.unsigned_abs();
    match magnitude % 10 {
        0 => format!("{sign}{}", magnitude / 10),
        frac => format!("{sign}{}.{frac}", magnitude / 10),
    }
}

/// The chart of [`DailyStats`]. Elements for tests and CSS: `#pc-chart` (the `<svg>`),
/// `.pc-chart-bar` (one per day, `data-day`), `.pc-chart-rate` (the line), `.pc-chart-point`,
/// `#pc-chart-summary` (the text summary), `#pc-chart-table` (the figures).
#[component]
pub fn DailyChart(stats: DailyStats) -> impl IntoView {
    let model = ChartModel::new(&stats);
    let summary = model.summary();
    let bottom = PLOT_Y + PLOT_HEIGHT;
    let right = PLOT_X + PLOT_WIDTH;

    // Horizontal grid lines and both axes' labels at 0, ½ and the top.
    let grid = [0i64, 1, 2]
        .into_iter()
        .map(|step| {
            let y = bottom - PLOT_HEIGHT * step / 2;
            let volume = if model.max_volume > 0 {
                model.money(scale(model.max_volume, step, 2))
            } else if step == 0 {
                model.money(0)
            } else {
                String::new()
            };
            let rate = format!("{}%", step * 50);
            view! {
                <g class="pc-chart-grid">
                    <line x1=units(PLOT_X) x2=units(right) y1=units(y) y2=units(y)></line>
                    <text class="pc-chart-volume-label" x=units(PLOT_X - 60) y=units(y + 40) text-anchor="end">
                        {volume}
                    </text>
                    <text class="pc-chart-rate-label" x=units(right + 60) y=units(y + 40) text-anchor="start">
                        {rate}
                    </text>
                </g>
            }
        })
        .collect_view();

    let days = model
        .bars
        .iter()
        .map(|bar| {
            let tooltip = model.tooltip(bar);
            view! {
                <g class="pc-chart-day">
                    <title>{tooltip}</title>
                    <rect
                        class="pc-chart-hit"
                        x=units(bar.slot_x)
                        y=units(PLOT_Y)
                        width=units(bar.slot_width)
                        height=units(PLOT_HEIGHT)
                    ></rect>
                    <rect
                        class="pc-chart-bar"
                        data-day=bar.stat.day.clone()
                        x=units(bar.x)
                        y=units(bar.y)
                        width=units(bar.width)
                        height=units(bar.height)
                    ></rect>
                </g>
            }
        })
        .collect_view();

    let points = model
        .bars
        .iter()
        .filter_map(|bar| {
            let y = bar.rate_y?;
            Some(view! {
                <circle
                    class="pc-chart-point"
                    data-day=bar.stat.day.clone()
                    cx=units(bar.center)
                    cy=units(y)
                    r="3"
                ></circle>
            })
        })
        .collect_view();

    let labels = model
        .labelled()
        .into_iter()
        .map(|bar| {
            view! {
                <text
                    class="pc-chart-day-label"
                    x=units(bar.center)
                    y=units(bottom + 200)
                    text-anchor="middle"
                >
                    {format::day(&bar.stat.day)}
                </text>
            }
        })
        .collect_view();

    let rows = model
        .bars
        .iter()
        .map(|bar| {
            let stat = &bar.stat;
            view! {
                <tr>
                    <th scope="row">{format::day_long(&stat.day)}</th>
                    <td class="pc-num">{model.money(stat.volume_minor)}</td>
                    <td class="pc-num">{stat.count}</td>
                    <td class="pc-num">{stat.succeeded}</td>
                    <td class="pc-num">{stat.failed}</td>
                    <td class="pc-num">
                        {bar.rate.map(format::percent).unwrap_or_else(|| "—".to_string())}
                    </td>
                </tr>
            }
        })
        .collect_view();

    let empty = model.bars.is_empty();
    view! {
        <figure class="pc-chart-figure">
            <div class="pc-chart-scroll">
                <svg
                    id="pc-chart"
                    class="pc-chart"
                    viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                    role="img"
                    aria-label="Daily captured volume (bars) and success rate (line)"
                    aria-describedby="pc-chart-summary"
                    focusable="false"
                >
                    {grid}
                    {days}
                    <path class="pc-chart-rate" d=model.rate_path.clone() fill="none"></path>
                    {points}
                    {labels}
                </svg>
            </div>
            <figcaption>
                <p id="pc-chart-summary" class="pc-chart-summary">{summary}</p>
                <p class="pc-chart-legend" aria-hidden="true">
                    <span class="pc-legend-bar"></span>
                    " Captured volume "
                    <span class="pc-legend-line"></span>
                    " Success rate"
                </p>
            </figcaption>
            {(!empty)
                .then(move || {
                    view! {
                <details class="pc-chart-data">
                    <summary>"Daily figures"</summary>
                    <div class="pc-table-wrap">
                        <table id="pc-chart-table" class="pc-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Day"</th>
                                    <th scope="col" class="pc-num">"Captured"</th>
                                    <th scope="col" class="pc-num">"Payments"</th>
                                    <th scope="col" class="pc-num">"Succeeded"</th>
                                    <th scope="col" class="pc-num">"Failed"</th>
                                    <th scope="col" class="pc-num">"Success rate"</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </details>
                    }
                })}
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(day: &str, volume: i64, succeeded: i64, failed: i64) -> DailyStat {
        DailyStat {
            day: day.to_string(),
            count: succeeded + failed,
            succeeded,
            failed,
            volume_minor: volume,
        }
    }

    #[test]
    fn bars_are_proportional_to_volume() {
        let model = ChartModel::new(&DailyStats {
            currency: Some("USD".into()),
            days: vec![
                stat("2026-11-01", 100, 1, 1),
                stat("2026-11-02", 50, 0, 0),
                stat("2026-11-03", 0, 0, 2),
                stat("2026-11-04", 200, 3, 0),
            ],
        });
        let heights: Vec<i64> = model.bars.iter().map(|b| b.height).collect();
        assert_eq!(heights, [PLOT_HEIGHT / 2, PLOT_HEIGHT / 4, 0, PLOT_HEIGHT]);
        for bar in &model.bars {
            assert_eq!(
                bar.y + bar.height,
                PLOT_Y + PLOT_HEIGHT,
                "bars stand on the axis"
            );
            assert!(bar.x >= PLOT_X && bar.x + bar.width <= PLOT_X + PLOT_WIDTH);
        }
        // Slots tile the plot width exactly.
        assert_eq!(model.bars[0].slot_x, PLOT_X);
        let last = &model.bars[3];
        assert_eq!(last.slot_x + last.slot_width, PLOT_X + PLOT_WIDTH);
        // 50 %, none (no attempts: the line breaks), 0 %, 100 %.
        let rates: Vec<Option<i64>> = model.bars.iter().map(|b| b.rate).collect();
        assert_eq!(rates, [Some(500), None, Some(0), Some(1000)]);
        assert_eq!(model.bars[3].rate_y, Some(PLOT_Y));
        assert_eq!(model.bars[2].rate_y, Some(PLOT_Y + PLOT_HEIGHT));
        assert!(model.rate_path.starts_with('M'));
        assert_eq!(
            model.rate_path.matches('M').count(),
            2,
            "{}",
            model.rate_path
        );
        assert_eq!(
            model.rate_path.matches('L').count(),
            1,
            "{}",
            model.rate_path
        );
        assert_eq!(model.total_volume, 350);
        assert_eq!(
            model.busiest.as_ref().map(|d| d.day.as_str()),
            Some("2026-11-04")
        );
    }

    #[test]
    fn empty_and_zero_ranges_draw_nothing_tall() {
        let empty = ChartModel::new(&DailyStats {
            currency: None,
            days: vec![],
        });
        assert!(empty.bars.is_empty());
        assert_eq!(empty.rate_path, "");
        assert_eq!(empty.summary(), "No days in this range.");

        let quiet = ChartModel::new(&DailyStats {
            currency: None,
            days: vec![stat("2026-11-01", 0, 0, 0), stat("2026-11-02", 0, 0, 0)],
        });
        assert!(quiet.bars.iter().all(|b| b.height == 0 && b.rate.is_none()));
        assert_eq!(quiet.rate_path, "");
        assert_eq!(quiet.busiest, None);
    }

    #[test]
    fn huge_volumes_and_many_days_stay_in_the_box() {
        let days: Vec<DailyStat> = (0..400)
            .map(|i| stat("2026-01-01", if i == 7 { i64::MAX } else { i }, 1, 0))
            .collect();
        let model = ChartModel::new(&DailyStats {
            currency: Some("JPY".into()),
            days,
        });
        assert_eq!(model.bars.len(), 400);
        assert_eq!(model.bars[7].height, PLOT_HEIGHT);
        for bar in &model.bars {
            assert!(bar.width >= 1);
            assert!((0..=PLOT_HEIGHT).contains(&bar.height));
        }
        assert!(model.labelled().len() <= 8);
        assert_eq!(model.total_volume, i64::MAX);
    }

    #[test]
    fn svg_numbers() {
        assert_eq!(units(1234), "123.4");
        assert_eq!(units(50), "5");
        assert_eq!(units(0), "0");
        assert_eq!(units(-15), "-1.5");
    }
}
