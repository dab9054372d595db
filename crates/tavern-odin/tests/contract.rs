//! Contract tests: the ODIN client's requests, and the fake ODIN API's answers, checked
//! against the ODIN Fleet OpenAPI description (tests/fake-odin/fleet-api.json).

use std::time::Duration;

use serde_json::{Value, json};
use tavern_fake_odin::{FakeConfig, NewPort, NewServer, Recorded};
use tavern_odin::model::{Metadata, ServerFilter};
use tavern_odin::{OdinClient, OdinError, RetryPolicy};

const SPEC: &str = include_str!("../../../tests/fake-odin/fleet-api.json");

fn spec() -> Value {
    serde_json::from_str(SPEC).expect("the spec file is JSON")
}

/// Follows `$ref`s within the spec.
fn resolve<'a>(spec: &'a Value, mut schema: &'a Value) -> &'a Value {
    while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        schema = spec
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved {reference}"));
    }
    schema
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    }
}

/// A JSON Schema check covering what the spec uses: `$ref`, `type` (one or a list),
/// `properties`, `required`, `items`, `additionalProperties`, `enum`, `allOf`/`anyOf`/`oneOf`.
fn check(spec: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    // A `$ref` with siblings (`description`) keeps its target's rules.
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for sub in all {
            check(spec, sub, value, at, problems);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let fits = options.iter().any(|option| {
                let mut inner = Vec::new();
                check(spec, option, value, at, &mut inner);
                inner.is_empty()
            });
            if !fits {
                problems.push(format!("{at}: fits none of {key}"));
            }
        }
    }
    match schema.get("type") {
        Some(Value::String(name)) if !type_matches(name, value) => {
            problems.push(format!("{at}: expected {name}, got {value}"));
            return;
        }
        Some(Value::Array(names))
            if !names
                .iter()
                .filter_map(Value::as_str)
                .any(|n| type_matches(n, value)) =>
        {
            problems.push(format!("{at}: expected one of {names:?}, got {value}"));
            return;
        }
        _ => {}
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Value::Object(object) = value {
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(required) {
                problems.push(format!("{at}: missing required {required}"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, item) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => check(spec, sub, item, &format!("{at}.{key}"), problems),
                None => {
                    if let Some(extra) = schema.get("additionalProperties")
                        && extra.is_object()
                    {
                        check(spec, extra, item, &format!("{at}.{key}"), problems);
                    }
                }
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(spec, item_schema, item, &format!("{at}[{i}]"), problems);
        }
    }
}

/// The spec's operation for a recorded request, with its path parameters.
fn operation<'a>(spec: &'a Value, method: &str, path: &str) -> Option<(&'a Value, Vec<String>)> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    for (template, item) in spec["paths"].as_object()? {
        let parts: Vec<&str> = template.trim_matches('/').split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut params = Vec::new();
        let fits = parts.iter().zip(&segments).all(|(part, segment)| {
            if part.starts_with('{') {
                params.push((*segment).to_owned());
                true
            } else {
                part == segment
            }
        });
        if fits && let Some(op) = item.get(method.to_ascii_lowercase()) {
            return Some((op, params));
        }
    }
    None
}

/// Every problem of one recorded exchange against the spec.
fn contract_problems(spec: &Value, recorded: &Recorded) -> Vec<String> {
    let mut problems = Vec::new();
    let what = format!("{} {}", recorded.method, recorded.path);
    let Some((op, path_params)) = operation(spec, &recorded.method, &recorded.path) else {
        return vec![format!("{what}: no such operation in the spec")];
    };
    let declared: Vec<&Value> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| resolve(spec, p))
        .collect();
    let path_declared: Vec<&&Value> = declared.iter().filter(|p| p["in"] == "path").collect();
    for (param, value) in path_declared.iter().zip(&path_params) {
        if param["schema"]["type"] == "integer" && value.parse::<i64>().is_err() {
            problems.push(format!(
                "{what}: path parameter {} is not an integer",
                param["name"]
            ));
        }
    }
    for (name, value) in &recorded.query {
        match declared
            .iter()
            .find(|p| p["in"] == "query" && p["name"] == name.as_str())
        {
            None => problems.push(format!("{what}: undeclared query parameter {name}")),
            Some(param) => {
                let schema = resolve(spec, &param["schema"]);
                let typed = match schema["type"].as_str() {
                    Some("integer") => value.parse::<i64>().map(Value::from).ok(),
                    Some("boolean") => value.parse::<bool>().map(Value::from).ok(),
                    _ => Some(Value::from(value.clone())),
                };
                match typed {
                    Some(typed) => check(
                        spec,
                        schema,
                        &typed,
                        &format!("{what} ?{name}"),
                        &mut problems,
                    ),
                    None => {
                        problems.push(format!("{what}: ?{name}={value} is not {}", schema["type"]))
                    }
                }
                if let (Some(min), Ok(n)) = (schema["minimum"].as_i64(), value.parse::<i64>())
                    && n < min
                {
                    problems.push(format!("{what}: ?{name}={n} below {min}"));
                }
                if let (Some(max), Ok(n)) = (schema["maximum"].as_i64(), value.parse::<i64>())
                    && n > max
                {
                    problems.push(format!("{what}: ?{name}={n} above {max}"));
                }
            }
        }
    }
    if let Some(body) = &recorded.body {
        match op.pointer("/requestBody/content/application~1json/schema") {
            Some(schema) => check(spec, schema, body, &format!("{what} body"), &mut problems),
            None => problems.push(format!("{what}: the operation takes no JSON body")),
        }
    }
    let status = recorded.status.to_string();
    match op["responses"].get(&status) {
        None => problems.push(format!("{what}: status {status} is not declared")),
        Some(response) => {
            let response = resolve(spec, response);
            let schema = response.pointer("/content/application~1json/schema");
            match (schema, &recorded.response) {
                (Some(schema), Some(body)) => check(
                    spec,
                    schema,
                    body,
                    &format!("{what} -> {status}"),
                    &mut problems,
                ),
                (Some(_), None) => problems.push(format!("{what} -> {status}: no JSON body")),
                (None, _) => {}
            }
        }
    }
    problems
}

fn server(id: i64, state: &str, address: Option<&str>) -> NewServer {
    NewServer {
        id: Some(id),
        address: address.map(str::to_owned),
        ports: vec![NewPort {
            name: "game_port".into(),
            protocol: Some("udp".into()),
            target_port: 7777,
            published_port: Some(30000 + id),
        }],
        metadata: json!({"instance_state": state, "mode": {"name": "duel"}})
            .as_object()
            .unwrap()
            .clone(),
        city: "Frankfurt".into(),
        country: "DE".into(),
        continent: "EU".into(),
        ..Default::default()
    }
}

fn quick(client: OdinClient) -> OdinClient {
    client.with_retry(RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    })
}

#[tokio::test]
async fn client_requests_and_fake_answers_follow_the_spec() {
    let (fake, url) = tavern_fake_odin::start(FakeConfig::default())
        .await
        .unwrap();
    for id in 1..=3 {
        fake.add_server(server(
            id,
            if id == 3 { "occupied" } else { "idle" },
            Some("127.0.0.1"),
        ));
    }
    let client = quick(OdinClient::new(&url, "fake-token", Duration::from_secs(5)).unwrap());

    let mut idle = Metadata::new();
    idle.insert("instance_state".into(), json!("idle"));
    let filter = ServerFilter {
        metadata: tavern_odin::metadata_filter(&idle),
        status: Some("running".into()),
        location_city: Some("Frankfurt".into()),
        location_country: Some("DE".into()),
        location_continent: Some("EU".into()),
        page: 1,
        per_page: 1,
    };
    let page = client.list_servers(1, &filter).await.unwrap();
    assert_eq!(page.data.len(), 1);
    assert_eq!((page.meta.current_page, page.meta.last_page), (1, 2));
    let page2 = client
        .list_servers(
            1,
            &ServerFilter {
                page: 2,
                ..filter.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(page2.meta.next_page(), None);
    let nested = ServerFilter {
        metadata: Some(r#"mode.name="duel""#.into()),
        page: 1,
        per_page: 100,
        ..Default::default()
    };
    assert_eq!(client.list_servers(1, &nested).await.unwrap().data.len(), 3);

    let one = client.get_server(1, 2).await.unwrap();
    assert_eq!(one.node.unwrap().address, "127.0.0.1");
    let mut patch = Metadata::new();
    patch.insert("player_count".into(), json!(2));
    let patched = client.patch_metadata(2, &patch).await.unwrap();
    assert_eq!(patched.metadata.as_ref().unwrap()["instance_state"], "idle");
    assert_eq!(patched.metadata.as_ref().unwrap()["player_count"], 2);
    let replaced = client.put_metadata(2, &patch).await.unwrap();
    assert_eq!(replaced.metadata.unwrap().len(), 1);
    client.stop(2).await.unwrap();
    assert!(client.get_server(1, 2).await.unwrap().is_stopped);
    client.start(2).await.unwrap();
    client.restart(2).await.unwrap();

    assert!(matches!(
        client.get_server(1, 99).await,
        Err(OdinError::NotFound(_))
    ));
    assert!(matches!(
        client.get_server(2, 1).await,
        Err(OdinError::NotFound(_))
    ));
    let stranger = OdinClient::new(&url, "wrong", Duration::from_secs(5)).unwrap();
    assert!(matches!(
        stranger.get_server(1, 1).await,
        Err(OdinError::Unauthorized { status: 401, .. })
    ));

    let spec = spec();
    let recorded = fake.requests();
    assert!(recorded.len() >= 12, "{}", recorded.len());
    let problems: Vec<String> = recorded
        .iter()
        .flat_map(|r| contract_problems(&spec, r))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn faults_map_to_error_kinds_and_retries() {
    let (fake, url) = tavern_fake_odin::start(FakeConfig::default())
        .await
        .unwrap();
    fake.add_server(server(1, "idle", Some("127.0.0.1")));
    let client = quick(OdinClient::new(&url, "fake-token", Duration::from_millis(300)).unwrap());
    let fault = |status, count, delay_ms| tavern_fake_odin::Fault {
        status,
        count,
        delay_ms,
        path: String::new(),
    };

    // 429 and 500 are retried; two failures then success.
    fake.add_fault(fault(429, 1, 0));
    fake.add_fault(fault(500, 1, 0));
    assert_eq!(client.get_server(1, 1).await.unwrap().id, 1);
    // Still failing after every attempt: unavailable.
    fake.add_fault(fault(503, 3, 0));
    assert!(matches!(
        client.get_server(1, 1).await,
        Err(OdinError::Unavailable(_))
    ));
    // Not retried: 401, 404, 422.
    fake.add_fault(fault(401, 1, 0));
    assert!(matches!(
        client.get_server(1, 1).await,
        Err(OdinError::Unauthorized { .. })
    ));
    fake.add_fault(fault(404, 1, 0));
    assert!(matches!(
        client.get_server(1, 1).await,
        Err(OdinError::NotFound(_))
    ));
    // 422 is declared for the metadata writes: inject it there.
    fake.add_fault(tavern_fake_odin::Fault {
        path: "metadata".into(),
        ..fault(422, 1, 0)
    });
    match client.patch_metadata(1, &Metadata::new()).await {
        Err(OdinError::Invalid { errors, .. }) => assert!(errors.contains_key("fault")),
        other => panic!("{other:?}"),
    }
    // Slow answers hit the request timeout, are retried, then reported unavailable.
    fake.add_fault(fault(0, 3, 1_000));
    assert!(matches!(
        client.get_server(1, 1).await,
        Err(OdinError::Unavailable(_))
    ));
    // A bad perPage is the API's validation error.
    let bad = ServerFilter {
        page: 1,
        per_page: 1,
        ..Default::default()
    };
    assert!(client.list_servers(1, &bad).await.is_ok());
    let spec = spec();
    let problems: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.status != 429 && r.status < 500)
        .flat_map(|r| contract_problems(&spec, r))
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
}
