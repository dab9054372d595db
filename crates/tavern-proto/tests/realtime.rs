//! Realtime envelope tests: the captured Nakama socket exchanges in
//! `tests/vectors/ws_*.txt`, one sample of every envelope member in JSON and
//! protobuf, field-number spot checks, and the JSON dialect rules (strict
//! unknown fields, int64 as string, zero omission, null as absent, ...).

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tavern_proto::realtime::{self, Envelope, envelope::Message};
use tavern_proto::{Timestamp, api};

/// Lines of a capture file as (direction, JSON text); `>>>` is client to
/// server, `<<<` server to client.
fn capture_lines(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once("] ")?;
            let (direction, payload) = rest.split_once(' ')?;
            matches!(direction, ">>>" | "<<<").then_some((direction, payload))
        })
        .collect()
}

fn as_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Decodes, re-encodes, and checks JSON equality and a protobuf round trip.
fn assert_round_trip(text: &str) -> Envelope {
    let envelope = Envelope::from_json(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(
        as_value(&envelope.to_json()),
        as_value(text),
        "JSON of {text}"
    );
    let bytes = envelope.to_protobuf();
    let back = Envelope::from_protobuf(&bytes).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(back, envelope, "protobuf round trip of {text}");
    envelope
}

#[test]
fn captured_exchanges_decode_and_reencode() {
    let captures = [
        include_str!("vectors/ws_exchange.txt"),
        include_str!("vectors/ws_party_exchange.txt"),
    ];
    let mut client = 0;
    let mut server = 0;
    for capture in captures {
        for (direction, payload) in capture_lines(capture) {
            if payload == "this is not json" || payload.contains("bogus_message") {
                // Nakama closed the socket on these two; so must we.
                assert!(Envelope::from_json(payload).is_err(), "{payload}");
                continue;
            }
            if direction == "<<<" {
                // What Nakama wrote, we must write back identically.
                assert_round_trip(payload);
                server += 1;
            } else {
                // Clients may spell out defaults ("target":""), which we
                // omit; the decoded message must survive both encodings.
                let envelope =
                    Envelope::from_json(payload).unwrap_or_else(|e| panic!("{payload}: {e}"));
                assert_eq!(Envelope::from_json(&envelope.to_json()).unwrap(), envelope);
                let bytes = envelope.to_protobuf();
                assert_eq!(Envelope::from_protobuf(&bytes).unwrap(), envelope);
                client += 1;
            }
        }
    }
    assert!(client >= 20, "only {client} client lines checked");
    assert!(server >= 30, "only {server} server lines checked");
}

#[test]
fn captured_values_land_in_the_right_fields() {
    let send = Envelope::from_json(
        r#"{"match_data_send":{"match_id":"m.","op_code":"7","data":"aGVsbG8="}}"#,
    )
    .unwrap();
    let Some(Message::MatchDataSend(send)) = send.message else {
        panic!("not a match_data_send");
    };
    assert_eq!(send.op_code, 7);
    assert_eq!(send.data, b"hello");

    let ack = Envelope::from_json(
        r#"{"cid":"6","channel_message_ack":{"channel_id":"2...lobby","code":0,"create_time":"2026-11-22T01:51:50Z","persistent":true}}"#,
    )
    .unwrap();
    assert_eq!(ack.cid, "6");
    let Some(Message::ChannelMessageAck(ack)) = ack.message else {
        panic!("not an ack");
    };
    assert_eq!(ack.code, Some(0));
    assert_eq!(ack.persistent, Some(true));
    assert_eq!(
        ack.create_time,
        Some(Timestamp::from_unix_seconds(1_795_312_310))
    );
}

/// Name of the oneof member; the exhaustive match keeps this list complete.
fn member_name(message: &Message) -> &'static str {
    match message {
        Message::Channel(_) => "channel",
        Message::ChannelJoin(_) => "channel_join",
        Message::ChannelLeave(_) => "channel_leave",
        Message::ChannelMessage(_) => "channel_message",
        Message::ChannelMessageAck(_) => "channel_message_ack",
        Message::ChannelMessageSend(_) => "channel_message_send",
        Message::ChannelMessageUpdate(_) => "channel_message_update",
        Message::ChannelMessageRemove(_) => "channel_message_remove",
        Message::ChannelPresenceEvent(_) => "channel_presence_event",
        Message::Error(_) => "error",
        Message::Match(_) => "match",
        Message::MatchCreate(_) => "match_create",
        Message::MatchData(_) => "match_data",
        Message::MatchDataSend(_) => "match_data_send",
        Message::MatchJoin(_) => "match_join",
        Message::MatchLeave(_) => "match_leave",
        Message::MatchPresenceEvent(_) => "match_presence_event",
        Message::MatchmakerAdd(_) => "matchmaker_add",
        Message::MatchmakerMatched(_) => "matchmaker_matched",
        Message::MatchmakerRemove(_) => "matchmaker_remove",
        Message::MatchmakerTicket(_) => "matchmaker_ticket",
        Message::Notifications(_) => "notifications",
        Message::Rpc(_) => "rpc",
        Message::Status(_) => "status",
        Message::StatusFollow(_) => "status_follow",
        Message::StatusPresenceEvent(_) => "status_presence_event",
        Message::StatusUnfollow(_) => "status_unfollow",
        Message::StatusUpdate(_) => "status_update",
        Message::StreamData(_) => "stream_data",
        Message::StreamPresenceEvent(_) => "stream_presence_event",
        Message::Ping(_) => "ping",
        Message::Pong(_) => "pong",
        Message::Party(_) => "party",
        Message::PartyCreate(_) => "party_create",
        Message::PartyJoin(_) => "party_join",
        Message::PartyLeave(_) => "party_leave",
        Message::PartyPromote(_) => "party_promote",
        Message::PartyLeader(_) => "party_leader",
        Message::PartyAccept(_) => "party_accept",
        Message::PartyRemove(_) => "party_remove",
        Message::PartyClose(_) => "party_close",
        Message::PartyJoinRequestList(_) => "party_join_request_list",
        Message::PartyJoinRequest(_) => "party_join_request",
        Message::PartyMatchmakerAdd(_) => "party_matchmaker_add",
        Message::PartyMatchmakerRemove(_) => "party_matchmaker_remove",
        Message::PartyMatchmakerTicket(_) => "party_matchmaker_ticket",
        Message::PartyData(_) => "party_data",
        Message::PartyDataSend(_) => "party_data_send",
        Message::PartyPresenceEvent(_) => "party_presence_event",
    }
}

/// One populated sample per envelope member, in Nakama's output dialect.
fn every_member_sample() -> Vec<Value> {
    let p = json!({"user_id":"u1","session_id":"s1","username":"alice"});
    let q =
        json!({"user_id":"u2","session_id":"s2","username":"bob","persistence":true,"status":""});
    let stream = json!({"mode":2,"subject":"s","subcontext":"c","label":"l"});
    let mm_user = json!({"presence":p,"party_id":"p.","string_properties":{"mode":"x"},"numeric_properties":{"rank":7.5}});
    vec![
        json!({"cid":"1","channel":{"id":"2...lobby","presences":[q],"self":p,"room_name":"lobby","group_id":"g","user_id_one":"a","user_id_two":"b"}}),
        json!({"cid":"2","channel_join":{"target":"lobby","type":1,"persistence":false,"hidden":true}}),
        json!({"cid":"3","channel_leave":{"channel_id":"2...lobby"}}),
        json!({"channel_message":{"channel_id":"c","message_id":"m","code":0,"sender_id":"u","username":"n","content":"{}","create_time":"2026-11-22T01:51:50Z","update_time":"2026-11-22T01:51:50.123Z","persistent":false,"room_name":"r","group_id":"g","user_id_one":"a","user_id_two":"b"}}),
        json!({"cid":"4","channel_message_ack":{"channel_id":"c","message_id":"m","code":3,"username":"n","create_time":"2026-11-22T01:51:50Z","update_time":"2026-11-22T01:51:50Z","persistent":true,"room_name":"r","group_id":"g","user_id_one":"a","user_id_two":"b"}}),
        json!({"cid":"5","channel_message_send":{"channel_id":"c","content":"{\"a\":1}"}}),
        json!({"cid":"6","channel_message_update":{"channel_id":"c","message_id":"m","content":"{}"}}),
        json!({"cid":"7","channel_message_remove":{"channel_id":"c","message_id":"m"}}),
        json!({"channel_presence_event":{"channel_id":"c","joins":[p],"leaves":[q],"room_name":"r","group_id":"g","user_id_one":"a","user_id_two":"b"}}),
        json!({"cid":"8","error":{"code":7,"message":"boom","context":{"k":"v"}}}),
        json!({"cid":"9","match":{"match_id":"m.n","authoritative":true,"label":"","size":2,"presences":[q],"self":p}}),
        json!({"cid":"10","match_create":{"name":"room"}}),
        json!({"match_data":{"match_id":"m.","presence":p,"op_code":"-3","data":"AAEC/w==","reliable":true}}),
        json!({"match_data_send":{"match_id":"m.","op_code":"9007199254740993","data":"aGk=","presences":[p],"reliable":true}}),
        json!({"cid":"11","match_join":{"token":"jwt","metadata":{"a":"b"}}}),
        json!({"cid":"12","match_leave":{"match_id":"m."}}),
        json!({"match_presence_event":{"match_id":"m.","joins":[p],"leaves":[q]}}),
        json!({"cid":"13","matchmaker_add":{"min_count":2,"max_count":4,"query":"*","string_properties":{"r":"eu"},"numeric_properties":{"rank":1.0},"count_multiple":2}}),
        json!({"matchmaker_matched":{"ticket":"t","token":"jwt","users":[mm_user],"self":mm_user}}),
        json!({"cid":"14","matchmaker_remove":{"ticket":"t"}}),
        json!({"cid":"15","matchmaker_ticket":{"ticket":"t"}}),
        json!({"notifications":{"notifications":[{"id":"n","subject":"s","content":"{}","code":-7,"sender_id":"u","create_time":"2026-11-22T01:51:50Z","persistent":true}]}}),
        json!({"cid":"16","rpc":{"id":"f","payload":"{}","http_key":"k"}}),
        json!({"cid":"17","status":{"presences":[q]}}),
        json!({"cid":"18","status_follow":{"user_ids":["a","b"],"usernames":["c"]}}),
        json!({"status_presence_event":{"joins":[q],"leaves":[q]}}),
        json!({"cid":"19","status_unfollow":{"user_ids":["a"]}}),
        json!({"cid":"20","status_update":{"status":"busy"}}),
        json!({"stream_data":{"stream":stream,"sender":p,"data":"text","reliable":true}}),
        json!({"stream_presence_event":{"stream":stream,"joins":[p],"leaves":[q]}}),
        json!({"cid":"21","ping":{}}),
        json!({"cid":"22","pong":{}}),
        json!({"cid":"23","party":{"party_id":"p.n","open":true,"max_size":4,"self":p,"leader":p,"presences":[p,q]}}),
        json!({"cid":"24","party_create":{"open":true,"max_size":2}}),
        json!({"cid":"25","party_join":{"party_id":"p.n"}}),
        json!({"cid":"26","party_leave":{"party_id":"p.n"}}),
        json!({"cid":"27","party_promote":{"party_id":"p.n","presence":q}}),
        json!({"party_leader":{"party_id":"p.n","presence":q}}),
        json!({"cid":"28","party_accept":{"party_id":"p.n","presence":q}}),
        json!({"cid":"29","party_remove":{"party_id":"p.n","presence":q}}),
        json!({"cid":"30","party_close":{"party_id":"p.n"}}),
        json!({"cid":"31","party_join_request_list":{"party_id":"p.n"}}),
        json!({"party_join_request":{"party_id":"p.n","presences":[q]}}),
        json!({"cid":"32","party_matchmaker_add":{"party_id":"p.n","min_count":2,"max_count":2,"query":"*","string_properties":{"a":"b"},"numeric_properties":{"n":2.5},"count_multiple":1}}),
        json!({"cid":"33","party_matchmaker_remove":{"party_id":"p.n","ticket":"t"}}),
        json!({"party_matchmaker_ticket":{"party_id":"p.n","ticket":"t"}}),
        json!({"party_data":{"party_id":"p.n","presence":p,"op_code":"5","data":"aGk="}}),
        json!({"cid":"34","party_data_send":{"party_id":"p.n","op_code":"5","data":"aGk="}}),
        json!({"party_presence_event":{"party_id":"p.n","joins":[p],"leaves":[q]}}),
    ]
}

#[test]
fn every_envelope_member_round_trips_in_json_and_protobuf() {
    let mut seen = BTreeSet::new();
    for sample in every_member_sample() {
        let envelope = assert_round_trip(&sample.to_string());
        let message = envelope.message.as_ref().expect("sample has a member");
        let name = member_name(message);
        assert!(sample.get(name).is_some(), "{name} decoded from {sample}");
        assert!(seen.insert(name), "{name} sampled twice");
    }
    assert_eq!(seen.len(), 49, "oneof members 2..=50");
}

#[test]
fn protobuf_field_numbers_match_nakama() {
    // Envelope.cid = 1, Envelope.pong = 33 (tag 33 << 3 | 2 = 266 = 0x8a 0x02).
    let pong = Envelope {
        cid: "3".into(),
        message: Some(Message::Pong(realtime::Pong {})),
    };
    assert_eq!(pong.to_protobuf(), [0x0a, 0x01, b'3', 0x8a, 0x02, 0x00]);

    // Envelope.party = 34 (0x92 0x02); Party.max_size = 3 (0x18), as Nakama 3.15 and
    // nakama-js-protobuf 1.4 number it (later Nakama versions moved it to 4).
    let party = Envelope {
        cid: String::new(),
        message: Some(Message::Party(realtime::Party {
            max_size: 2,
            ..Default::default()
        })),
    };
    assert_eq!(party.to_protobuf(), [0x92, 0x02, 0x02, 0x18, 0x02]);

    // MatchmakerUser: presence = 1, party_id = 2, string_properties = 5,
    // numeric_properties = 6.
    let user = realtime::matchmaker_matched::MatchmakerUser {
        presence: None,
        party_id: "p".into(),
        string_properties: [("k".to_string(), "v".to_string())].into(),
        numeric_properties: [("n".to_string(), 1.0)].into(),
    };
    let bytes = prost::Message::encode_to_vec(&user);
    assert_eq!(&bytes[..3], [0x12, 0x01, b'p']);
    assert_eq!(&bytes[3..5], [0x2a, 0x06], "string_properties is field 5");
    assert_eq!(bytes[11], 0x32, "numeric_properties is field 6");

    // MatchDataSend.op_code = 2 (varint), data = 3; MatchData.op_code = 3.
    let send = realtime::MatchDataSend {
        op_code: 1,
        data: vec![9],
        ..Default::default()
    };
    assert_eq!(
        prost::Message::encode_to_vec(&send),
        [0x10, 0x01, 0x1a, 0x01, 9]
    );
    let data = realtime::MatchData {
        op_code: 1,
        ..Default::default()
    };
    assert_eq!(prost::Message::encode_to_vec(&data), [0x18, 0x01]);

    // Timestamp inside a message: ChannelMessageAck.create_time = 5, with
    // seconds = 1 and nanos = 2 inside.
    let ack = realtime::ChannelMessageAck {
        create_time: Some(Timestamp::new(1, 2)),
        ..Default::default()
    };
    assert_eq!(
        prost::Message::encode_to_vec(&ack),
        [0x2a, 0x04, 0x08, 0x01, 0x10, 0x02]
    );
}

#[test]
fn unknown_fields_are_rejected_anywhere_in_an_envelope() {
    for text in [
        r#"{"cid":"10","bogus_message":{}}"#,
        r#"{"cid":"1","ping":{},"extra":1}"#,
        r#"{"cid":"1","match_join":{"match_id":"m.","node":"x"}}"#,
        r#"{"cid":"1","rpc":{"id":"f","payload":"{}","extra":true}}"#,
        r#"{"match_data_send":{"match_id":"m.","presences":[{"user_id":"u","node":"n"}]}}"#,
        r#"{"notifications":{"notifications":[{"id":"n","extra":1}]}}"#,
    ] {
        let error = Envelope::from_json(text).expect_err(text);
        let message = error.to_string();
        assert!(message.contains("unknown field"), "{text}: {message}");
    }
    // The same api message is lenient on its own (REST body rules).
    let rpc: api::Rpc = serde_json::from_str(r#"{"id":"f","extra":true}"#).unwrap();
    assert_eq!(rpc.id, "f");
}

#[test]
fn malformed_envelopes_are_rejected() {
    for text in [
        "this is not json",
        r#"{"cid":"1","ping":{},"pong":{}}"#,
        r#"{"cid":1}"#,
        r#"{"match_data_send":{"op_code":"seven"}}"#,
        r#"{"match_data_send":{"data":"%%%"}}"#,
        r#"{"match_data_send":{"op_code":"1"}"#,
    ] {
        assert!(Envelope::from_json(text).is_err(), "{text}");
    }
    assert!(Envelope::from_protobuf(&[0x0a, 0x05, b'x']).is_err());
}

#[test]
fn op_code_accepts_string_and_number_and_is_written_as_string() {
    for text in [
        r#"{"match_data_send":{"match_id":"m.","op_code":"7"}}"#,
        r#"{"match_data_send":{"match_id":"m.","op_code":7}}"#,
        r#"{"matchDataSend":{"matchId":"m.","opCode":7}}"#,
    ] {
        let envelope = Envelope::from_json(text).unwrap();
        assert_eq!(
            as_value(&envelope.to_json()),
            json!({"match_data_send":{"match_id":"m.","op_code":"7"}}),
            "{text}"
        );
    }
}

#[test]
fn error_code_zero_has_no_code_key() {
    let envelope = Envelope {
        cid: "10".into(),
        message: Some(Message::Error(realtime::Error {
            code: realtime::error::Code::RuntimeException as i32,
            message: "Error adding to matchmaker".into(),
            context: Default::default(),
        })),
    };
    assert_eq!(
        envelope.to_json(),
        r#"{"cid":"10","error":{"message":"Error adding to matchmaker"}}"#
    );
    assert_eq!(realtime::error::Code::RuntimeFunctionException as i32, 7);
    assert_eq!(realtime::error::Code::MissingPayload as i32, 2);
}

#[test]
fn empty_members_and_replies_have_nakama_shapes() {
    let pong = Envelope {
        cid: "3".into(),
        message: Some(Message::Pong(realtime::Pong {})),
    };
    assert_eq!(pong.to_json(), r#"{"cid":"3","pong":{}}"#);
    let ack = Envelope {
        cid: "7".into(),
        message: None,
    };
    assert_eq!(ack.to_json(), r#"{"cid":"7"}"#);
    assert_eq!(Envelope::default().to_json(), "{}");
}

#[test]
fn match_label_wrapper_is_present_even_when_empty() {
    let reply = Envelope {
        cid: "4".into(),
        message: Some(Message::Match(realtime::Match {
            match_id: "m.nakama".into(),
            authoritative: true,
            label: Some(String::new()),
            size: 0,
            presences: vec![],
            self_: None,
        })),
    };
    assert_eq!(
        reply.to_json(),
        r#"{"cid":"4","match":{"match_id":"m.nakama","authoritative":true,"label":""}}"#
    );
    let relayed = realtime::Match {
        match_id: "m.".into(),
        size: 1,
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_string(&relayed).unwrap(),
        r#"{"match_id":"m.","size":1}"#
    );
}

#[test]
fn null_means_absent_and_camel_case_and_base64_variants_are_accepted() {
    let envelope = Envelope::from_json(
        r#"{"cid":null,"matchDataSend":{"match_id":null,"opCode":null,"data":null,"presences":null,"reliable":null}}"#,
    )
    .unwrap();
    assert_eq!(envelope.cid, "");
    assert_eq!(
        envelope.message,
        Some(Message::MatchDataSend(Default::default()))
    );

    // "+/8=" in std base64 is "-_8" in URL-safe base64 without padding.
    for data in ["+/8=", "+/8", "-_8=", "-_8"] {
        let text = format!(r#"{{"match_data_send":{{"match_id":"m.","data":"{data}"}}}}"#);
        let envelope = Envelope::from_json(&text).unwrap();
        let Some(Message::MatchDataSend(send)) = envelope.message else {
            panic!("{text}");
        };
        assert_eq!(send.data, [0xfb, 0xff], "{data}");
    }
    let out = Envelope {
        cid: String::new(),
        message: Some(Message::MatchData(realtime::MatchData {
            data: vec![0xfb, 0xff],
            ..Default::default()
        })),
    };
    assert_eq!(out.to_json(), r#"{"match_data":{"data":"+/8="}}"#);

    // Status wrapper: absent vs present-but-empty differ.
    let offline = Envelope::from_json(r#"{"cid":"1","status_update":{}}"#).unwrap();
    let online = Envelope::from_json(r#"{"cid":"1","status_update":{"status":""}}"#).unwrap();
    assert_eq!(
        offline.message,
        Some(Message::StatusUpdate(realtime::StatusUpdate {
            status: None
        }))
    );
    assert_eq!(
        online.message,
        Some(Message::StatusUpdate(realtime::StatusUpdate {
            status: Some(String::new())
        }))
    );
}

#[test]
fn decode_errors_are_readable() {
    let error = Envelope::from_json(r#"{"cid":"1","bogus":{}}"#).unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with("malformed JSON envelope:"), "{text}");
    assert!(text.contains("bogus"), "{text}");
    let error = Envelope::from_protobuf(&[0xff]).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("malformed protobuf envelope:")
    );
}

#[test]
fn empty_arrays_are_accepted_for_empty_messages_and_maps() {
    // Lua JSON encoders write an empty table as `[]`.
    let create = Envelope::from_json(r#"{"cid":"1","match_create":[]}"#).unwrap();
    assert_eq!(
        create.message,
        Some(Message::MatchCreate(realtime::MatchCreate::default()))
    );
    let add = Envelope::from_json(
        r#"{"cid":"2","matchmaker_add":{"min_count":2,"max_count":2,"query":"*","string_properties":[],"numeric_properties":[]}}"#,
    )
    .unwrap();
    let Some(Message::MatchmakerAdd(add)) = add.message else {
        panic!("not a matchmaker_add");
    };
    assert!(add.string_properties.is_empty() && add.numeric_properties.is_empty());
    let join =
        Envelope::from_json(r#"{"cid":"3","match_join":{"match_id":"m.","metadata":[]}}"#).unwrap();
    assert!(matches!(join.message, Some(Message::MatchJoin(_))));

    // Only the empty array; anything else is still a type error.
    assert!(Envelope::from_json(r#"{"cid":"1","ping":[1]}"#).is_err());
    assert!(Envelope::from_json(r#"{"cid":"1","ping":"x"}"#).is_err());
    assert!(Envelope::from_json(r#"{"cid":[]}"#).is_err());
}
