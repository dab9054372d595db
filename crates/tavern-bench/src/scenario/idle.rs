//! `idle`: creates M authoritative matches that do nothing but tick, through an RPC taking
//! `{"count": n, "tick_rate": r}` (the bundled `create_idle_matches`), lets them settle, then
//! reads how late their ticks ran from the server's own Prometheus endpoint: the histogram
//! `tavern_match_tick_lateness_seconds` is scraped at the start and at the end of the window,
//! and the difference gives the lateness distribution of the ticks run in between. Lateness
//! can only be seen inside the server, so the bench trusts the server's histogram; its
//! percentiles are bucket upper bounds (see docs/OBSERVABILITY.md for the buckets).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tavern_proto::api::Rpc;
use tavern_proto::realtime::{Envelope, envelope};

use crate::cli::{Format, IdleArgs, LuaIdleArgs, Target};
use crate::client::{Endpoint, HttpClient, Socket};
use crate::proc_stats;
use crate::report::{self, LatencySummary, Outcome, Report};
use crate::scenario::{create_accounts, run_tag};

/// The server's tick lateness histogram.
const LATENESS: &str = "tavern_match_tick_lateness_seconds";
/// The server's tick duration histogram.
const DURATION: &str = "tavern_match_tick_duration_seconds";
/// The server's running matches gauge.
const RUNNING: &str = "tavern_matches_running";

/// Runs `idle` and returns its report.
pub async fn run(
    endpoint: Arc<Endpoint>,
    target: &Target,
    args: &IdleArgs,
) -> Result<Report, String> {
    let parameters = serde_json::to_value(args).unwrap_or_default();
    measure(
        endpoint,
        target,
        "idle",
        args,
        Some(args.metrics_port),
        parameters,
    )
    .await
}

/// Runs `lua-idle` (`idle` on the bench's Lua match) and returns its report.
pub async fn lua(
    endpoint: Arc<Endpoint>,
    target: &Target,
    args: &LuaIdleArgs,
) -> Result<Report, String> {
    let parameters = serde_json::to_value(args).unwrap_or_default();
    measure(
        endpoint,
        target,
        "lua-idle",
        &args.idle(),
        args.metrics_port,
        parameters,
    )
    .await
}

async fn measure(
    endpoint: Arc<Endpoint>,
    target: &Target,
    scenario: &'static str,
    args: &IdleArgs,
    metrics_port: Option<u16>,
    parameters: serde_json::Value,
) -> Result<Report, String> {
    let metrics_endpoint = metrics_port.map(|port| endpoint.with_port(port));
    let mut metrics = match &metrics_endpoint {
        Some(metrics_endpoint) => {
            let mut client = HttpClient::new(metrics_endpoint);
            client.get_text("/metrics").await.map_err(|e| {
                format!("the server's metrics endpoint must be on (metrics.prometheus_port): {e}")
            })?;
            Some(client)
        }
        None => None,
    };

    let tokens = create_accounts(endpoint.clone(), &run_tag(), 1, 1).await?;
    let token = tokens.first().ok_or("no account")?;
    let mut socket = Socket::connect(&endpoint, token, Format::Json).await?;
    let rss_before_matches = server_rss(target.server_pid)?;
    let setup_started = Instant::now();
    let mut created = 0u64;
    let mut batch_index = 0u64;
    while created < args.matches {
        let count = args.batch.min(args.matches - created);
        let call = Envelope {
            cid: String::new(),
            message: Some(envelope::Message::Rpc(Rpc {
                id: args.rpc.clone(),
                payload: json!({ "count": count, "tick_rate": args.tick_rate }).to_string(),
                http_key: String::new(),
            })),
        };
        batch_index += 1;
        match socket
            .request(call, &batch_index.to_string())
            .await?
            .message
        {
            Some(envelope::Message::Rpc(_)) => created += count,
            other => return Err(format!("rpc {} answered with {other:?}", args.rpc)),
        }
    }
    let setup_s = setup_started.elapsed().as_secs_f64();
    eprintln!(
        "{scenario}: {created} matches created in {setup_s:.1}s; settling {}s",
        args.settle
    );
    tokio::time::sleep(Duration::from_secs(args.settle)).await;

    let start_time = report::now_rfc3339();
    let probe = proc_stats::Probe::start(target.server_pid)?;
    let before = match &mut metrics {
        Some(m) => Some(Scrape::parse(&m.get_text("/metrics").await?)),
        None => None,
    };
    let started = Instant::now();
    let window = Duration::from_secs(args.duration);
    let every = Duration::from_secs(target.progress_secs);
    // Bounded by the window.
    while started.elapsed() < window {
        tokio::time::sleep(every.min(window.saturating_sub(started.elapsed()))).await;
        eprintln!(
            "[{scenario} {:>6.1}s] waiting",
            started.elapsed().as_secs_f64()
        );
    }
    let after = match &mut metrics {
        Some(m) => Some(Scrape::parse(&m.get_text("/metrics").await?)),
        None => None,
    };
    let (server, client) = probe.finish()?;
    let elapsed = started.elapsed();
    socket.close().await;

    let mut details = json!({
        "setup_s": setup_s,
        "matches_created": created,
    });
    if let (Some(before), Some(server)) = (rss_before_matches, &server) {
        details["rss_kib_before_matches"] = json!(before);
        details["kib_per_match"] =
            json!(server.rss_kib_after.saturating_sub(before) as f64 / created.max(1) as f64);
    }
    let (ops, latency) = match (before, after) {
        (Some(before), Some(after)) => {
            let lateness = after.histogram(LATENESS).minus(&before.histogram(LATENESS));
            let duration = after.histogram(DURATION).minus(&before.histogram(DURATION));
            let ticks = lateness.count;
            // Every match running counts, including any left from earlier runs on the server.
            let running = before.value(RUNNING).unwrap_or(created as f64);
            let expected = running * args.tick_rate as f64 * elapsed.as_secs_f64();
            details["latency_is"] = json!(
                "server tick lateness (tick start - scheduled instant), from its Prometheus histogram; percentiles are bucket upper bounds"
            );
            details["ops_are"] = json!("match ticks run in the window");
            details["matches_running"] = json!(running);
            details["ticks_expected"] = json!(expected.round());
            details["ticks_share_run"] = json!(if expected > 0.0 {
                ticks as f64 / expected
            } else {
                0.0
            });
            details["lateness_share_under_5ms"] = json!(lateness.share_at_most(0.005));
            details["tick_duration_p50_ms"] = json!(duration.quantile(0.50) * 1000.0);
            details["tick_duration_p99_ms"] = json!(duration.quantile(0.99) * 1000.0);
            details["tick_duration_mean_ms"] = json!(if duration.count > 0 {
                duration.sum / duration.count as f64 * 1000.0
            } else {
                0.0
            });
            (ticks, lateness.summary())
        }
        _ => {
            details["ops_are"] = json!("none: no metrics endpoint, so ticks are not counted");
            (0, Buckets::default().summary())
        }
    };
    Ok(Report::new(
        target,
        Outcome {
            scenario,
            parameters,
            start_time,
            duration: elapsed,
            throughput: None,
            ops,
            errors: 0,
            latency,
            server,
            client,
            details,
            error_samples: Vec::new(),
        },
    ))
}

fn server_rss(pid: Option<u32>) -> Result<Option<u64>, String> {
    Ok(pid.map(proc_stats::sample).transpose()?.map(|s| s.rss_kib))
}

/// The unlabelled samples of one Prometheus text exposition: `name{labels} value` lines,
/// keyed by the full series text before the value.
struct Scrape(BTreeMap<String, f64>);

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut samples = BTreeMap::new();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if let Some((series, value)) = line.rsplit_once(' ')
                && let Ok(value) = value.parse::<f64>()
            {
                samples.insert(series.to_owned(), value);
            }
        }
        Scrape(samples)
    }

    fn value(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }

    /// The buckets, sum and count of histogram `name` (first label set found).
    fn histogram(&self, name: &str) -> Buckets {
        let prefix = format!("{name}_bucket{{");
        let mut bounds = Vec::new();
        for (series, count) in self.0.range(prefix.clone()..) {
            let Some(labels) = series.strip_prefix(&prefix) else {
                break;
            };
            let le = labels
                .split(',')
                .find_map(|l| l.trim_end_matches('}').strip_prefix("le=\""))
                .map(|v| v.trim_end_matches('"'));
            let bound = match le {
                Some("+Inf") => f64::INFINITY,
                Some(v) => match v.parse::<f64>() {
                    Ok(b) => b,
                    Err(_) => continue,
                },
                None => continue,
            };
            bounds.push((bound, *count));
        }
        bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        let find = |suffix: &str| {
            self.0
                .iter()
                .find(|(k, _)| {
                    k.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix(suffix))
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('{'))
                })
                .map(|(_, v)| *v)
                .unwrap_or(0.0)
        };
        Buckets {
            bounds,
            sum: find("_sum"),
            count: find("_count") as u64,
        }
    }
}

/// A cumulative histogram: (upper bound in seconds, observations at most that).
#[derive(Debug, Default, PartialEq)]
struct Buckets {
    bounds: Vec<(f64, f64)>,
    sum: f64,
    count: u64,
}

impl Buckets {
    /// The observations between two scrapes.
    fn minus(&self, earlier: &Buckets) -> Buckets {
        let bounds = self
            .bounds
            .iter()
            .map(|(bound, count)| {
                let before = earlier
                    .bounds
                    .iter()
                    .find(|(b, _)| b == bound)
                    .map_or(0.0, |(_, c)| *c);
                (*bound, (count - before).max(0.0))
            })
            .collect();
        Buckets {
            bounds,
            sum: self.sum - earlier.sum,
            count: self.count.saturating_sub(earlier.count),
        }
    }

    /// Upper bound (seconds) of the bucket holding quantile `q`; the largest finite bound
    /// when it falls in `+Inf`, 0 when empty.
    fn quantile(&self, q: f64) -> f64 {
        let total = self.bounds.last().map_or(0.0, |(_, c)| *c);
        if total <= 0.0 {
            return 0.0;
        }
        let largest_finite = self
            .bounds
            .iter()
            .rev()
            .find(|(b, _)| b.is_finite())
            .map_or(0.0, |(b, _)| *b);
        self.bounds
            .iter()
            .find(|(_, c)| *c >= q * total)
            .map_or(largest_finite, |(b, _)| {
                if b.is_finite() { *b } else { largest_finite }
            })
    }

    /// Share of observations at most `bound` seconds (`bound` must be a bucket bound).
    fn share_at_most(&self, bound: f64) -> f64 {
        let total = self.bounds.last().map_or(0.0, |(_, c)| *c);
        if total <= 0.0 {
            return 0.0;
        }
        self.bounds
            .iter()
            .find(|(b, _)| (*b - bound).abs() < 1e-12)
            .map_or(0.0, |(_, c)| c / total)
    }

    /// Percentiles in milliseconds, as bucket upper bounds.
    fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.count,
            mean: if self.count > 0 {
                self.sum / self.count as f64 * 1000.0
            } else {
                0.0
            },
            p50: self.quantile(0.50) * 1000.0,
            p90: self.quantile(0.90) * 1000.0,
            p99: self.quantile(0.99) * 1000.0,
            max: self.quantile(1.0) * 1000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "# TYPE h histogram\n\
        h_bucket{le=\"0.001\"} 10\nh_bucket{le=\"0.005\"} 10\nh_bucket{le=\"+Inf\"} 10\n\
        h_sum 0.002\nh_count 10\n";
    const AFTER: &str = "h_bucket{le=\"0.001\"} 100\nh_bucket{le=\"0.005\"} 109\n\
        h_bucket{le=\"+Inf\"} 110\nh_sum 0.2\nh_count 110\ng 7\n";

    #[test]
    fn histogram_difference_and_quantiles() {
        let before = Scrape::parse(BEFORE).histogram("h");
        let after = Scrape::parse(AFTER);
        assert_eq!(after.value("g"), Some(7.0));
        let window = after.histogram("h").minus(&before);
        assert_eq!(window.count, 100);
        assert_eq!(window.quantile(0.5), 0.001);
        assert_eq!(window.quantile(0.95), 0.005);
        // The last observation is past every finite bound.
        assert_eq!(window.quantile(1.0), 0.005);
        assert!((window.share_at_most(0.005) - 0.99).abs() < 1e-9);
    }
}
