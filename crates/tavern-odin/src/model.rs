//! The ODIN Fleet API's objects, as far as the adapter reads them. Decoding is lenient on
//! purpose: unknown keys are ignored, and keys the spec calls required but the adapter can do
//! without (`node`, `publishedPort`, `metadata`, ...) may be missing or null, so a new or
//! half-scheduled server never breaks a whole listing.

use serde::{Deserialize, Serialize};

/// JSON metadata of a server.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// A game-server instance (the spec's `Server`, a "docker service").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Server {
    pub id: i64,
    pub app_location_setting_id: i64,
    pub instance: i64,
    pub server_config_id: i64,
    pub server_config_name: String,
    pub name: String,
    pub status: String,
    #[serde(rename = "status_message")]
    pub status_message: Option<String>,
    pub is_pending: bool,
    pub is_not_found: bool,
    pub is_healthy: bool,
    pub is_stopped: bool,
    pub maintenance: bool,
    pub ports: Vec<Port>,
    /// Absent while the server is not placed on a node yet.
    pub node: Option<Node>,
    pub location: Option<Location>,
    /// Free-form data set by the game server and through the API; `None` when absent or null.
    pub metadata: Option<Metadata>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// A port of a server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Port {
    pub name: String,
    pub protocol: String,
    /// The port inside the container.
    pub target_port: i64,
    /// The port players connect to; `None` until assigned.
    pub published_port: Option<i64>,
}

/// The node a server runs on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Node {
    /// The node's public IP address.
    pub address: String,
    pub os: String,
    pub architecture: String,
}

/// Where a node is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Location {
    pub city: String,
    pub city_display: String,
    pub continent: String,
    pub country: String,
    pub is_protected: bool,
}

/// One page of a paginated listing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub meta: PageMeta,
}

/// The paginator's position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PageMeta {
    pub current_page: i64,
    pub last_page: i64,
    pub per_page: i64,
    pub total: i64,
}

impl PageMeta {
    /// The number of the next page, if there is one.
    pub fn next_page(&self) -> Option<i64> {
        (self.current_page < self.last_page).then_some(self.current_page + 1)
    }
}

/// The filters of `GET /v1/apps/{app}/services`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerFilter {
    /// `filter[metadata]`, already built (see [`crate::metadata_filter`]).
    pub metadata: Option<String>,
    pub status: Option<String>,
    pub location_city: Option<String>,
    pub location_country: Option<String>,
    pub location_continent: Option<String>,
    /// 1-based.
    pub page: i64,
    /// 1..=100.
    pub per_page: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_tolerates_new_missing_and_null_fields() {
        let server: Server = serde_json::from_value(serde_json::json!({
            "id": 4_000_000_000_i64,
            "status": "running",
            "autoscaling": {"state": "ready"},
            "ports": [{"name": "game_port", "protocol": "udp", "targetPort": 7777, "publishedPort": null}],
            "metadata": null,
            "createdAt": null
        }))
        .unwrap();
        assert_eq!(server.id, 4_000_000_000);
        assert_eq!(server.node, None);
        assert_eq!(server.metadata, None);
        assert_eq!(server.ports[0].published_port, None);
    }

    #[test]
    fn next_page_only_while_pages_remain() {
        let meta = |current_page, last_page| PageMeta {
            current_page,
            last_page,
            ..Default::default()
        };
        assert_eq!(meta(1, 3).next_page(), Some(2));
        assert_eq!(meta(3, 3).next_page(), None);
        assert_eq!(meta(1, 0).next_page(), None);
    }
}
