//! From ODIN's `Server` to the runtime's `InstanceInfo`.

use tavern_runtime::fleet::{ConnectionInfo, InstanceInfo};

use crate::model::Server;

/// The metadata key the adapter keeps the player count under (see `update`).
pub const PLAYER_COUNT_KEY: &str = "player_count";

/// Why a server cannot be handed to players yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    /// Not placed on a node (`node` absent or without an address).
    NoNode,
    /// No port of that name.
    NoPort(String),
    /// The port has no published port yet.
    PortNotPublished(String),
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreachable::NoNode => f.write_str("not assigned to a node yet"),
            Unreachable::NoPort(name) => write!(f, "has no port named {name:?}"),
            Unreachable::PortNotPublished(name) => {
                write!(f, "port {name:?} is not published yet")
            }
        }
    }
}

/// How players reach `server`: the node's address and the published port of the port named
/// `port_name`.
pub fn connection_info(server: &Server, port_name: &str) -> Result<ConnectionInfo, Unreachable> {
    let address = server
        .node
        .as_ref()
        .map(|node| node.address.trim())
        .filter(|address| !address.is_empty())
        .ok_or(Unreachable::NoNode)?;
    let port = server
        .ports
        .iter()
        .find(|port| port.name == port_name)
        .ok_or_else(|| Unreachable::NoPort(port_name.to_owned()))?;
    let published = port
        .published_port
        .and_then(|p| i32::try_from(p).ok())
        .filter(|p| (1..=65535).contains(p))
        .ok_or_else(|| Unreachable::PortNotPublished(port_name.to_owned()))?;
    Ok(ConnectionInfo {
        ip_address: address.to_owned(),
        dns_name: String::new(),
        port: published,
    })
}

/// The instance `server` is. Reads `server` only; the instance gets its own copy of the
/// metadata. `connection_info` is `None` when the server is not reachable yet.
pub fn instance_info(server: &Server, port_name: &str) -> InstanceInfo {
    let metadata = server.metadata.clone().unwrap_or_default();
    let player_count = metadata
        .get(PLAYER_COUNT_KEY)
        .and_then(serde_json::Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
        .unwrap_or(0);
    InstanceInfo {
        id: server.id.to_string(),
        connection_info: connection_info(server, port_name).ok(),
        create_time: server.created_at.clone().unwrap_or_default(),
        player_count,
        status: server.status.clone(),
        metadata,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Node, Port};

    fn server() -> Server {
        Server {
            id: 42,
            status: "running".into(),
            node: Some(Node {
                address: "203.0.113.7".into(),
                ..Default::default()
            }),
            ports: vec![
                Port {
                    name: "http".into(),
                    protocol: "tcp".into(),
                    target_port: 8080,
                    published_port: Some(30001),
                },
                Port {
                    name: "game_port".into(),
                    protocol: "udp".into(),
                    target_port: 7777,
                    published_port: Some(30002),
                },
            ],
            metadata: Some(
                serde_json::json!({"game_port": 7777.0, "player_count": 3})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
            created_at: Some("2026-01-02T03:04:05.000000Z".into()),
            ..Default::default()
        }
    }

    /// Facts §6 #2 and #9: the port comes from the named port's published port, not from a
    /// metadata number (which the reference asserted to int32 and panicked on, and which holds
    /// the container's target port).
    #[test]
    fn port_is_the_named_published_port() {
        let info = instance_info(&server(), "game_port");
        let connection = info.connection_info.unwrap();
        assert_eq!(connection.ip_address, "203.0.113.7");
        assert_eq!(connection.port, 30002);
        let http = connection_info(&server(), "http").unwrap();
        assert_eq!(http.port, 30001);
        assert_eq!(
            connection_info(&server(), "voice"),
            Err(Unreachable::NoPort("voice".into()))
        );
    }

    /// Facts §6 #3: the conversion never writes into the API object.
    #[test]
    fn conversion_leaves_the_server_untouched() {
        let before = server();
        let info = instance_info(&before, "game_port");
        assert_eq!(before, server());
        assert_eq!(info.metadata.len(), 2);
        assert_eq!(info.metadata["game_port"], 7777.0);
        let no_metadata = Server {
            metadata: None,
            ..server()
        };
        assert!(instance_info(&no_metadata, "game_port").metadata.is_empty());
    }

    /// Facts §6 #8: a server without a node is unreachable, not a crash; §6 #10: player count
    /// and creation time come from the server.
    #[test]
    fn missing_node_or_port_is_unreachable() {
        let no_node = Server {
            node: None,
            ..server()
        };
        assert_eq!(
            connection_info(&no_node, "game_port"),
            Err(Unreachable::NoNode)
        );
        assert_eq!(instance_info(&no_node, "game_port").connection_info, None);
        let mut unpublished = server();
        unpublished.ports[1].published_port = None;
        assert_eq!(
            connection_info(&unpublished, "game_port"),
            Err(Unreachable::PortNotPublished("game_port".into()))
        );
        let info = instance_info(&server(), "game_port");
        assert_eq!(info.player_count, 3);
        assert_eq!(info.id, "42");
        assert_eq!(info.create_time, "2026-01-02T03:04:05.000000Z");
        assert_eq!(info.status, "running");
    }
}
