//! The kinds of realtime messages a client sends, for registering realtime hooks.

use std::fmt;

use crate::realtime::Envelope;
use crate::realtime::envelope::Message;

macro_rules! message_kinds {
    ($($kind:ident => $name:literal,)*) => {
        /// A kind of realtime message a client may send, named after the envelope member.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum MessageKind {
            $(
                #[doc = concat!("`", $name, "`")]
                $kind,
            )*
        }

        impl MessageKind {
            /// Every kind.
            pub const ALL: &[MessageKind] = &[$(MessageKind::$kind,)*];

            /// The kind of a client envelope; `None` for an empty envelope or a server-only
            /// message.
            pub fn of(envelope: &Envelope) -> Option<MessageKind> {
                match envelope.message.as_ref()? {
                    $(Message::$kind(_) => Some(MessageKind::$kind),)*
                    _ => None,
                }
            }

            /// The envelope member name (`match_data_send`, `rpc`, ...).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(MessageKind::$kind => $name,)*
                }
            }
        }
    };
}

message_kinds! {
    ChannelJoin => "channel_join",
    ChannelLeave => "channel_leave",
    ChannelMessageSend => "channel_message_send",
    ChannelMessageUpdate => "channel_message_update",
    ChannelMessageRemove => "channel_message_remove",
    MatchCreate => "match_create",
    MatchDataSend => "match_data_send",
    MatchJoin => "match_join",
    MatchLeave => "match_leave",
    MatchmakerAdd => "matchmaker_add",
    MatchmakerRemove => "matchmaker_remove",
    PartyCreate => "party_create",
    PartyJoin => "party_join",
    PartyLeave => "party_leave",
    PartyPromote => "party_promote",
    PartyAccept => "party_accept",
    PartyRemove => "party_remove",
    PartyClose => "party_close",
    PartyJoinRequestList => "party_join_request_list",
    PartyMatchmakerAdd => "party_matchmaker_add",
    PartyMatchmakerRemove => "party_matchmaker_remove",
    PartyDataSend => "party_data_send",
    Ping => "ping",
    Rpc => "rpc",
    StatusFollow => "status_follow",
    StatusUnfollow => "status_unfollow",
    StatusUpdate => "status_update",
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_envelope_member() {
        let rpc = Envelope::from_json(r#"{"cid":"1","rpc":{"id":"echo","payload":"x"}}"#).unwrap();
        assert_eq!(MessageKind::of(&rpc), Some(MessageKind::Rpc));
        let pong = Envelope::from_json(r#"{"pong":{}}"#).unwrap();
        assert_eq!(MessageKind::of(&pong), None);
        assert_eq!(MessageKind::of(&Envelope::default()), None);
        assert_eq!(MessageKind::MatchDataSend.to_string(), "match_data_send");
    }
}
