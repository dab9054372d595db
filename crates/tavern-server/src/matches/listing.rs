//! Match listing: by exact label, or by a query over the JSON label, with size filters.
//! Authoritative matches come newest first (or by score for queries), then relayed ones.

use std::cmp::Ordering;
use std::sync::atomic::Ordering as AtomicOrdering;

use tavern_proto::api;
use tavern_query::Query;

use super::MatchRegistry;

/// A listing request, validated by the caller.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub limit: usize,
    pub authoritative: Option<bool>,
    pub label: Option<String>,
    pub min_size: Option<usize>,
    pub max_size: Option<usize>,
    pub query: Option<String>,
}

impl ListRequest {
    fn size_fits(&self, size: usize) -> bool {
        self.min_size.is_none_or(|min| size >= min) && self.max_size.is_none_or(|max| size <= max)
    }
}

/// A query that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadQuery(pub String);

impl MatchRegistry {
    /// Lists matches; `relayed` gives the relayed matches as (id, size) when they are wanted.
    pub fn list(
        &self,
        request: &ListRequest,
        relayed: impl FnOnce() -> Vec<(String, usize)>,
    ) -> Result<Vec<api::Match>, BadQuery> {
        let mut out = Vec::new();
        if request.authoritative != Some(false) {
            out = self.list_authoritative(request)?;
        }
        let wants_relayed = request.authoritative != Some(true)
            && request.label.is_none()
            && request.query.is_none();
        if wants_relayed && out.len() < request.limit {
            for (match_id, size) in relayed() {
                if out.len() >= request.limit {
                    break;
                }
                if request.size_fits(size) {
                    out.push(api::Match {
                        match_id,
                        size: size as i32,
                        ..Default::default()
                    });
                }
            }
        }
        Ok(out)
    }

    /// One running match by id, as listings show it.
    pub fn get(&self, id: uuid::Uuid, node: &str) -> Option<api::Match> {
        let entry = self.entry(id, node)?;
        Some(self.describe(&entry))
    }

    fn describe(&self, entry: &super::MatchEntry) -> api::Match {
        api::Match {
            match_id: format!("{}.{}", entry.id, self.node),
            authoritative: true,
            label: Some(
                entry
                    .label
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone(),
            ),
            size: entry.size.load(AtomicOrdering::Relaxed) as i32,
            tick_rate: entry.tick_rate as i32,
            handler_name: entry.handler_name.clone(),
        }
    }

    fn list_authoritative(&self, request: &ListRequest) -> Result<Vec<api::Match>, BadQuery> {
        let matches = self.read();
        let mut hits: Vec<(f64, i64, api::Match)> = Vec::new();
        let mut push = |entry: &super::MatchEntry, score: f64| {
            let size = entry.size.load(AtomicOrdering::Relaxed);
            if request.size_fits(size) {
                hits.push((
                    score,
                    entry.create_time_ms,
                    api::Match {
                        match_id: format!("{}.{}", entry.id, self.node),
                        authoritative: true,
                        label: Some(
                            entry
                                .label
                                .read()
                                .unwrap_or_else(|p| p.into_inner())
                                .clone(),
                        ),
                        size: size as i32,
                        tick_rate: entry.tick_rate as i32,
                        handler_name: entry.handler_name.clone(),
                    },
                ));
            }
        };
        if let Some(text) = &request.query {
            let query = if text.trim().is_empty() {
                Query::match_all()
            } else {
                Query::parse(text).map_err(|e| BadQuery(e.to_string()))?
            };
            let index = self.index.lock().unwrap_or_else(|p| p.into_inner());
            for (id, score) in index.search(&query) {
                if let Some(entry) = matches.get(id) {
                    push(entry, score);
                }
            }
        } else {
            for entry in matches.values() {
                let label_fits = request
                    .label
                    .as_ref()
                    .is_none_or(|l| *l == *entry.label.read().unwrap_or_else(|p| p.into_inner()));
                if label_fits {
                    push(entry, 0.0);
                }
            }
        }
        hits.sort_by(|a, b| {
            b.0.partial_cmp(&a.0)
                .unwrap_or(Ordering::Equal)
                .then(b.1.cmp(&a.1))
        });
        Ok(hits
            .into_iter()
            .take(request.limit)
            .map(|(_, _, m)| m)
            .collect())
    }
}
