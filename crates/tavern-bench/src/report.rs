//! What a run produces: live counters with a periodic progress line, latency histograms,
//! and the final report printed as a table and written as JSON in a stable shape.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::Value;

use crate::cli::Target;
use crate::proc_stats::{ClientUsage, ServerUsage};

/// Distinct error messages kept as samples in the report.
const ERROR_SAMPLES: usize = 5;

/// Counters shared by all tasks of a run.
#[derive(Debug, Default)]
pub struct Counters {
    pub ops: AtomicU64,
    pub errors: AtomicU64,
    samples: Mutex<Vec<String>>,
}

impl Counters {
    /// Counts one successful operation.
    pub fn op(&self) {
        self.ops.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one failed operation and keeps its message if it is a new one.
    pub fn error(&self, message: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        if samples.len() < ERROR_SAMPLES && !samples.iter().any(|s| s == message) {
            samples.push(message.to_string());
        }
    }

    /// Successful operations so far.
    pub fn ops(&self) -> u64 {
        self.ops.load(Ordering::Relaxed)
    }

    /// Failed operations so far.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// The first distinct error messages.
    pub fn error_samples(&self) -> Vec<String> {
        self.samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Latencies in microseconds, from 1 µs to 10 minutes at 3 significant digits.
pub struct Latency(Histogram<u64>);

impl Latency {
    /// An empty histogram.
    pub fn new() -> Latency {
        Latency(Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds"))
    }

    /// Records one latency (clamped into the histogram's range).
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.0.saturating_record(micros.max(1));
    }

    /// Adds another histogram's samples into this one.
    pub fn merge(&mut self, other: &Latency) {
        // Same bounds on both sides, so adding cannot fail except by saturation.
        let _ = self.0.add(&other.0);
    }

    /// Percentiles in milliseconds.
    pub fn summary(&self) -> LatencySummary {
        let ms = |micros: u64| micros as f64 / 1000.0;
        LatencySummary {
            count: self.0.len(),
            mean: self.0.mean() / 1000.0,
            p50: ms(self.0.value_at_quantile(0.50)),
            p90: ms(self.0.value_at_quantile(0.90)),
            p99: ms(self.0.value_at_quantile(0.99)),
            max: ms(self.0.max()),
        }
    }
}

impl Default for Latency {
    fn default() -> Latency {
        Latency::new()
    }
}

/// Latency distribution in milliseconds (all zero when nothing was recorded).
#[derive(Debug, Clone, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// Prints `label: ops, errors, rate` to stderr every `every` until the returned task is
/// aborted or `limit` has passed.
pub fn spawn_progress(
    label: &'static str,
    counters: std::sync::Arc<Counters>,
    every: Duration,
    limit: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let start = Instant::now();
        let mut last_ops = counters.ops();
        let mut last = start;
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        while start.elapsed() < limit {
            ticker.tick().await;
            let now = Instant::now();
            let ops = counters.ops();
            let rate = (ops - last_ops) as f64 / now.duration_since(last).as_secs_f64();
            eprintln!(
                "[{label} {:>6.1}s] ops {ops}  errors {}  {rate:.0}/s",
                start.elapsed().as_secs_f64(),
                counters.errors(),
            );
            last_ops = ops;
            last = now;
        }
    })
}

/// The result of one scenario run. Field names and nesting are stable across versions so
/// that two runs (or two servers) can be compared by a script.
#[derive(Debug, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub version: &'static str,
    pub scenario: &'static str,
    pub target: Value,
    pub parameters: Value,
    /// RFC 3339 UTC time the measurement started.
    pub start_time: String,
    /// Seconds of the measured phase (setup such as account creation excluded).
    pub duration_s: f64,
    pub ops: u64,
    pub errors: u64,
    /// Operations per second: `ops / duration_s`, except for `ccu` where it is the rate at
    /// which sockets were opened.
    pub throughput_per_s: f64,
    pub latency_ms: LatencySummary,
    /// Server CPU and RSS over the measured phase; `null` without `--server-pid`.
    pub server: Option<ServerUsage>,
    /// CPU used by tavern-bench itself over the measured phase (it shares the machine).
    pub client: ClientUsage,
    /// Scenario-specific figures (see docs/PERFORMANCE.md).
    pub details: Value,
    pub error_samples: Vec<String>,
}

/// The fields every scenario fills in for [`Report::new`].
pub struct Outcome {
    pub scenario: &'static str,
    pub parameters: Value,
    pub start_time: String,
    pub duration: Duration,
    /// Overrides `ops / duration` as the throughput.
    pub throughput: Option<f64>,
    pub ops: u64,
    pub errors: u64,
    pub latency: LatencySummary,
    pub server: Option<ServerUsage>,
    pub client: ClientUsage,
    pub details: Value,
    pub error_samples: Vec<String>,
}

impl Report {
    /// Assembles the report of a finished run.
    pub fn new(target: &Target, outcome: Outcome) -> Report {
        let duration_s = outcome.duration.as_secs_f64();
        Report {
            tool: "tavern-bench",
            version: env!("CARGO_PKG_VERSION"),
            scenario: outcome.scenario,
            target: serde_json::to_value(target).unwrap_or(Value::Null),
            parameters: outcome.parameters,
            start_time: outcome.start_time,
            duration_s,
            ops: outcome.ops,
            errors: outcome.errors,
            throughput_per_s: match outcome.throughput {
                Some(rate) => rate,
                None if duration_s > 0.0 => outcome.ops as f64 / duration_s,
                None => 0.0,
            },
            latency_ms: outcome.latency,
            server: outcome.server,
            client: outcome.client,
            details: outcome.details,
            error_samples: outcome.error_samples,
        }
    }

    /// Prints the human summary table to stdout.
    pub fn print_table(&self) {
        let mut rows: Vec<(String, String)> = vec![
            ("scenario".into(), self.scenario.into()),
            ("start".into(), self.start_time.clone()),
            ("duration".into(), format!("{:.2} s", self.duration_s)),
            ("ops".into(), self.ops.to_string()),
            ("errors".into(), self.errors.to_string()),
            (
                "throughput".into(),
                format!("{:.1} /s", self.throughput_per_s),
            ),
        ];
        let l = &self.latency_ms;
        rows.push((
            "latency ms".into(),
            format!(
                "p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}  (n={})",
                l.p50, l.p90, l.p99, l.max, l.count
            ),
        ));
        for (key, value) in flatten("param.", &self.parameters) {
            rows.push((key, value));
        }
        for (key, value) in flatten("", &self.details) {
            rows.push((key, value));
        }
        if let Some(s) = &self.server {
            rows.push((
                "server cpu".into(),
                format!("{:.2} s  ({:.0}% of one core)", s.cpu_s, s.cpu_percent),
            ));
            rows.push((
                "server rss".into(),
                format!(
                    "{} KiB -> {} KiB  (peak {} KiB)",
                    s.rss_kib_before, s.rss_kib_after, s.rss_kib_peak
                ),
            ));
        }
        rows.push((
            "client cpu".into(),
            format!(
                "{:.2} s  ({:.0}% of one core)",
                self.client.cpu_s, self.client.cpu_percent
            ),
        ));
        for sample in &self.error_samples {
            rows.push(("error sample".into(), sample.clone()));
        }
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        println!("{}", "-".repeat(width + 40));
        for (key, value) in rows {
            println!("{key:<width$}  {value}");
        }
        println!("{}", "-".repeat(width + 40));
    }

    /// Writes the report as pretty JSON.
    pub fn write_json(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| format!("encode report: {e}"))?;
        std::fs::write(path, text + "\n").map_err(|e| format!("write {}: {e}", path.display()))
    }
}

/// `key: value` rows of a flat JSON object.
fn flatten(prefix: &str, value: &Value) -> Vec<(String, String)> {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let shown = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => match n.as_f64() {
                        Some(f) if n.is_f64() => format!("{f:.3}"),
                        _ => n.to_string(),
                    },
                    other => other.to_string(),
                };
                (format!("{prefix}{k}"), shown)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The current UTC time in RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles_are_in_milliseconds() {
        let mut a = Latency::new();
        let mut b = Latency::new();
        for ms in 1..=50 {
            a.record(Duration::from_millis(ms));
        }
        for ms in 51..=100 {
            b.record(Duration::from_millis(ms));
        }
        a.merge(&b);
        let s = a.summary();
        assert_eq!(s.count, 100);
        assert!((s.p50 - 50.0).abs() < 0.1, "{s:?}");
        assert!((s.p99 - 99.0).abs() < 0.1, "{s:?}");
        assert!((s.max - 100.0).abs() < 0.1, "{s:?}");
    }

    #[test]
    fn counters_keep_distinct_error_samples() {
        let c = Counters::default();
        for i in 0..20 {
            c.error(&format!("e{}", i % 7));
        }
        assert_eq!(c.errors(), 20);
        assert_eq!(c.error_samples().len(), ERROR_SAMPLES);
    }
}
