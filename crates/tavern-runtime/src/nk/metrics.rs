//! `Nk` functions for custom metrics: counters, gauges and timers of game code, exported with
//! the server's own metrics (`GET /metrics` when `metrics.prometheus_port` is set) under the
//! `tavern_custom_` prefix, as Nakama exports them under its custom prefix.

use std::collections::HashMap;
use std::time::Duration;

use super::Nk;

/// The prefix of every custom metric's name.
pub const CUSTOM_PREFIX: &str = "tavern_custom_";

impl Nk {
    /// Adds `delta` to the counter `name` with `tags` as labels.
    pub fn metrics_counter_add(&self, name: &str, tags: &HashMap<String, String>, delta: u64) {
        metrics::counter!(metric_name(name), labels(tags)).increment(delta);
    }

    /// Sets the gauge `name` with `tags` as labels to `value`.
    pub fn metrics_gauge_set(&self, name: &str, tags: &HashMap<String, String>, value: f64) {
        metrics::gauge!(metric_name(name), labels(tags)).set(value);
    }

    /// Records `value` into the timer `name` with `tags` as labels (exported in seconds).
    pub fn metrics_timer_record(
        &self,
        name: &str,
        tags: &HashMap<String, String>,
        value: Duration,
    ) {
        metrics::histogram!(metric_name(name), labels(tags)).record(value.as_secs_f64());
    }
}

/// `tavern_custom_` and the name with every character Prometheus does not allow in a name
/// replaced by `_`.
fn metric_name(name: &str) -> String {
    let mut out = String::with_capacity(CUSTOM_PREFIX.len() + name.len());
    out.push_str(CUSTOM_PREFIX);
    out.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            c
        } else {
            '_'
        }
    }));
    out
}

fn labels(tags: &HashMap<String, String>) -> Vec<metrics::Label> {
    tags.iter()
        .map(|(k, v)| {
            let key: String = k
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            metrics::Label::new(key, v.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prometheus_safe() {
        assert_eq!(
            metric_name("games.won-total"),
            "tavern_custom_games_won_total"
        );
    }
}
