//! REST (api package) JSON tests: bodies built in Rust must equal Nakama's
//! captured responses in `tests/vectors/`, and request bodies follow the
//! gateway's lenient decoding rules.

use serde_json::{Value, json};
use tavern_proto::{Timestamp, api};

/// The JSON body at the end of a captured curl exchange.
fn captured_body(capture: &str) -> Value {
    let body = capture
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .expect("capture has a JSON body");
    serde_json::from_str(body).unwrap()
}

fn to_value<T: serde::Serialize>(message: &T) -> Value {
    serde_json::from_str(&serde_json::to_string(message).unwrap()).unwrap()
}

#[test]
fn session_matches_capture() {
    let expected = captured_body(include_str!("vectors/03b_auth_device_create_fresh.txt"));
    let session = api::Session {
        created: true,
        token: expected["token"].as_str().unwrap().to_owned(),
        refresh_token: expected["refresh_token"].as_str().unwrap().to_owned(),
    };
    assert_eq!(to_value(&session), expected);

    let again = api::Session {
        created: false,
        ..session
    };
    assert!(to_value(&again).get("created").is_none());
}

#[test]
fn account_matches_capture() {
    let expected = captured_body(include_str!("vectors/20_get_account.txt"));
    let account = api::Account {
        user: Some(api::User {
            id: "2cdbce2d-752e-4244-9276-79ee1b5bdfa3".into(),
            username: "IrgpdXqSez".into(),
            display_name: "Vec Display".into(),
            lang_tag: "en".into(),
            location: "x".into(),
            timezone: "UTC".into(),
            metadata: "{}".into(),
            create_time: Some(Timestamp::from_unix_seconds(1_795_311_546)),
            update_time: Some(Timestamp::from_unix_seconds(1_795_311_547)),
            ..Default::default()
        }),
        wallet: "{}".into(),
        devices: vec![api::AccountDevice {
            id: "0123456789abcdef".into(),
            vars: Default::default(),
        }],
        ..Default::default()
    };
    assert_eq!(to_value(&account), expected);

    // And the capture decodes back into the same message.
    let decoded: api::Account = serde_json::from_value(expected).unwrap();
    assert_eq!(decoded, account);
}

#[test]
fn request_bodies_are_lenient_and_accept_both_name_styles() {
    let device: api::AccountDevice =
        serde_json::from_slice(br#"{"id":"fresh-device-0001","vars":{"a":"b"},"unknown":[1]}"#)
            .unwrap();
    assert_eq!(device.id, "fresh-device-0001");
    assert_eq!(device.vars.get("a").map(String::as_str), Some("b"));

    let refresh: api::SessionRefreshRequest =
        serde_json::from_str(r#"{"token":"t","vars":{}}"#).unwrap();
    assert_eq!(refresh.token, "t");
    let logout: api::SessionLogoutRequest =
        serde_json::from_str(r#"{"refreshToken":"r","token":null}"#).unwrap();
    assert_eq!(logout.refresh_token, "r");
    assert_eq!(logout.token, "");

    let lua: api::AccountDevice =
        serde_json::from_str(r#"{"id":"device-0001","vars":[]}"#).unwrap();
    assert!(lua.vars.is_empty());

    let empty: api::AccountDevice = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, api::AccountDevice::default());
}

#[test]
fn wrappers_are_bare_optional_values() {
    let update: api::UpdateAccountRequest =
        serde_json::from_str(r#"{"display_name":"","timezone":"UTC","avatarUrl":null}"#).unwrap();
    assert_eq!(update.display_name.as_deref(), Some(""));
    assert_eq!(update.timezone.as_deref(), Some("UTC"));
    assert_eq!(update.avatar_url, None);
    assert_eq!(update.username, None);
    assert_eq!(
        to_value(&update),
        json!({"display_name":"","timezone":"UTC"})
    );

    let auth = api::AuthenticateDeviceRequest {
        account: Some(api::AccountDevice {
            id: "d".into(),
            vars: Default::default(),
        }),
        create: Some(false),
        username: String::new(),
    };
    assert_eq!(
        to_value(&auth),
        json!({"account":{"id":"d"},"create":false})
    );

    let write: api::WriteStorageObjectsRequest = serde_json::from_str(
        r#"{"objects":[{"collection":"c","key":"k","value":"{}","permission_read":2,"permission_write":0}]}"#,
    )
    .unwrap();
    assert_eq!(write.objects[0].permission_read, Some(2));
    assert_eq!(write.objects[0].permission_write, Some(0));

    // Int32Value also takes a numeric string, as protojson does.
    let list: api::ListMatchesRequest =
        serde_json::from_str(r#"{"limit":"10","minSize":2,"authoritative":true}"#).unwrap();
    assert_eq!(list.limit, Some(10));
    assert_eq!(list.min_size, Some(2));
    assert_eq!(list.authoritative, Some(true));
    assert!(serde_json::from_str::<api::ListMatchesRequest>(r#"{"limit":"ten"}"#).is_err());
}

#[test]
fn match_listing_shapes() {
    let list = api::MatchList {
        matches: vec![
            api::Match {
                match_id: "a.nakama".into(),
                authoritative: true,
                label: Some(String::new()),
                size: 3,
                tick_rate: 10,
                handler_name: "lobby".into(),
            },
            api::Match {
                match_id: "b.".into(),
                size: 1,
                ..Default::default()
            },
        ],
    };
    assert_eq!(
        to_value(&list),
        json!({"matches":[
            {"match_id":"a.nakama","authoritative":true,"label":"","size":3,"tick_rate":10,"handler_name":"lobby"},
            {"match_id":"b.","size":1}
        ]})
    );
    assert_eq!(to_value(&api::MatchList::default()), json!({}));
}

#[test]
fn timestamps_and_storage_acks() {
    let acks = api::StorageObjectAcks {
        acks: vec![api::StorageObjectAck {
            collection: "c".into(),
            key: "k".into(),
            version: "v".into(),
            user_id: "u".into(),
            create_time: Some(Timestamp::from_unix_millis(1_795_311_546_250)),
            update_time: Some(Timestamp::from_unix_seconds(1_795_311_547)),
        }],
    };
    assert_eq!(
        to_value(&acks),
        json!({"acks":[{"collection":"c","key":"k","version":"v","user_id":"u",
            "create_time":"2026-11-22T01:39:06.250Z","update_time":"2026-11-22T01:39:07Z"}]})
    );

    let stats = api::MatchmakerStats {
        ticket_count: 2,
        oldest_ticket_create_time: Some(Timestamp::new(0, 1)),
        completions: vec![api::MatchmakerCompletionStats::default()],
    };
    assert_eq!(
        to_value(&stats),
        json!({"ticket_count":2,"oldest_ticket_create_time":"1970-01-01T00:00:00.000000001Z","completions":[{}]})
    );
}
