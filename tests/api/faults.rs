//! Failure of the backing store: a frozen or killed DynamoDB gives 503 problems within a bounded
//! time, never partial state, and the service recovers without a restart.

use serde_json::json;
use std::time::{Duration, Instant};
use toolreg_tests::api::{unique, Api, Resp};
use toolreg_tests::stack::{
    server_env, DynamoDbLocal, Emulator, Endpoints, Server, ADMIN_PASSWORD, ADMIN_USERNAME,
};

/// The SDK's operation timeout is 5 s; allow for scheduling on a loaded 2-core machine.
const BOUND: Duration = Duration::from_secs(12);

fn signal(pid: u32, sig: i32) {
    #[allow(unsafe_code)]
    // SAFETY: kill(2) on a child we started.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// Runs `op` while the store is frozen and returns its response and how long it took.
/// (Futures are lazy: the request is sent only once the store is frozen.)
async fn frozen(ddb: &Emulator, op: impl std::future::Future<Output = Resp>) -> (Resp, Duration) {
    signal(ddb.child.id(), libc::SIGSTOP);
    let started = Instant::now();
    let r = op.await;
    let took = started.elapsed();
    signal(ddb.child.id(), libc::SIGCONT);
    // Let the store finish whatever it had buffered before we inspect state.
    tokio::time::sleep(Duration::from_millis(300)).await;
    (r, took)
}

#[tokio::test]
async fn a_frozen_store_gives_bounded_503s_and_no_partial_state() {
    let ddb = DynamoDbLocal::start();
    let s = Server::start_with_env(server_env(&Endpoints::with_dynamodb(&ddb), &[]));
    let api = Api::new(&s);
    let (admin, refresh) = api.tokens(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let elevated = api.elevated().await;
    let tool = |name: &str| json!({"tool_type": "function", "name": name, "risk_level": "low", "input_schema": {"type": "object"}});

    // Create while frozen: the tool and its name guard land together or not at all.
    let name = unique("frozen_create");
    let (r, took) = frozen(&ddb, api.post("/api/v1/tools", Some(&admin), &tool(&name))).await;
    r.assert_problem(503);
    assert!(took < BOUND, "answered after {took:?}");
    let listed = api
        .get(
            &format!("/api/v1/tools?q={}", name.to_lowercase()),
            Some(&admin),
        )
        .await;
    let present = listed.body["items"].as_array().unwrap().len();
    let again = api.post("/api/v1/tools", Some(&admin), &tool(&name)).await;
    if present == 0 {
        assert_eq!(
            again.status, 201,
            "no tool, so no guard may remain: {}",
            again.text
        );
    } else {
        assert_eq!(again.status, 409, "the tool landed, so its guard did too");
    }
    let audits = api
        .get(
            "/api/v1/audit-events?action=tool.create&limit=100",
            Some(&admin),
        )
        .await;
    let created_events = audits.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["details"]["name"] == json!(name))
        .count();
    assert_eq!(
        created_events, 1,
        "exactly one create event for exactly one tool"
    );

    // Update while frozen: the version moves with its audit event or not at all.
    let t = api
        .post(
            "/api/v1/tools",
            Some(&admin),
            &tool(&unique("frozen_update")),
        )
        .await;
    let id = t.body["id"].as_str().unwrap().to_owned();
    let (r, took) = frozen(
        &ddb,
        api.send(
            "PATCH",
            &format!("/api/v1/tools/{id}"),
            Some(&admin),
            Some(&json!({"description": "frozen"})),
            &[],
        ),
    )
    .await;
    r.assert_problem(503);
    assert!(took < BOUND, "answered after {took:?}");
    let now = api.get(&format!("/api/v1/tools/{id}"), Some(&admin)).await;
    let updates = api
        .get(
            &format!("/api/v1/audit-events?target_id={id}&action=tool.update"),
            Some(&admin),
        )
        .await;
    let n = updates.body["items"].as_array().unwrap().len();
    match now.body["version"].as_u64().unwrap() {
        1 => assert_eq!(n, 0),
        2 => assert_eq!(n, 1),
        v => panic!("unexpected version {v}"),
    }

    // Delete while frozen: tool and guard go together.
    let dname = unique("frozen_delete");
    let d = api.post("/api/v1/tools", Some(&admin), &tool(&dname)).await;
    let did = d.body["id"].as_str().unwrap().to_owned();
    let (r, took) = frozen(
        &ddb,
        api.send(
            "DELETE",
            &format!("/api/v1/tools/{did}"),
            Some(&elevated),
            None,
            &[],
        ),
    )
    .await;
    r.assert_problem(503);
    assert!(took < BOUND, "answered after {took:?}");
    let gone = api
        .get(&format!("/api/v1/tools/{did}"), Some(&admin))
        .await
        .status
        == 404;
    let recreate = api.post("/api/v1/tools", Some(&admin), &tool(&dname)).await;
    assert_eq!(
        recreate.status,
        if gone { 201 } else { 409 },
        "{}",
        recreate.text
    );

    // Refresh while frozen: afterwards the old token is either still good exactly once or spent;
    // never good twice.
    let (r, took) = frozen(
        &ddb,
        api.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        ),
    )
    .await;
    r.assert_problem(503);
    assert!(took < BOUND, "answered after {took:?}");
    let first = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    let second = api
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    assert!(
        !(first.status == 200 && second.status == 200),
        "a refresh token worked twice"
    );
    assert_eq!(second.status, 401);
}

#[tokio::test]
async fn a_killed_store_gives_503s_and_the_service_recovers_by_itself() {
    let mut ddb = DynamoDbLocal::start();
    let port = ddb.port;
    let s = Server::start_with_env(server_env(&Endpoints::with_dynamodb(&ddb), &[]));
    let api = Api::new(&s);
    let admin = api.admin().await;
    let _ = ddb.child.kill();
    let _ = ddb.child.wait();

    let started = Instant::now();
    let r = api.get("/api/v1/tools", Some(&admin)).await;
    r.assert_problem(503);
    assert!(started.elapsed() < BOUND);
    let r = api.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    r.assert_problem(503);

    // A new stack comes up on the same address; the running service uses it without a restart.
    let _fresh = DynamoDbLocal::start_on(port);
    let state = s.state().await;
    let clients = toolreg_tests::stack::clients(&s.endpoints()).await;
    toolreg_dev::setup::ensure_stack(&state.config, &clients)
        .await
        .expect("recreate the stack");
    toolreg_dev::setup::seed_admin(&state, ADMIN_USERNAME, ADMIN_PASSWORD, "tests")
        .await
        .expect("seed");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = api.login(ADMIN_USERNAME, ADMIN_PASSWORD).await;
        if r.status == 200 {
            let token = r.body["access_token"].as_str().unwrap().to_owned();
            assert_eq!(api.get("/api/v1/tools", Some(&token)).await.status, 200);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "did not recover: {} {}",
            r.status,
            r.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_create_retried_with_its_idempotency_key_after_a_503_lands_once_with_a_201() {
    let ddb = DynamoDbLocal::start();
    let s = Server::start_with_env(server_env(&Endpoints::with_dynamodb(&ddb), &[]));
    let api = Api::new(&s);
    let admin = api.admin().await;
    let name = unique("idem_frozen");
    let body = json!({"tool_type": "function", "name": name, "risk_level": "low", "input_schema": {"type": "object"}});
    let key = uuid::Uuid::new_v4().to_string();
    let headers = [("idempotency-key", key.as_str())];
    let send = || api.send("POST", "/api/v1/tools", Some(&admin), Some(&body), &headers);
    // The store stalls: the service cannot confirm the outcome and says 503; the write may
    // still land once the store resumes.
    let (r, _) = frozen(&ddb, send()).await;
    r.assert_problem(503);
    // Retrying as told, with the same key, is a 201 for this tool: never a 409 for itself.
    let again = send().await;
    again.assert_status(201);
    let listed = api
        .get(
            &format!("/api/v1/tools?q={}", name.to_lowercase()),
            Some(&admin),
        )
        .await;
    assert_eq!(listed.names(), vec![name.clone()]);
    assert_eq!(listed.body["items"][0]["id"], again.body["id"]);
    let third = send().await;
    third.assert_status(201);
    assert_eq!(third.header("idempotent-replayed"), Some("true"));
    assert_eq!(third.body["id"], again.body["id"]);
}

/// Which of DynamoDB's "retry me" answers to a transaction the proxy gives.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    /// `TransactionCanceledException` whose reasons name `TransactionConflict`: another
    /// transaction held one of the items.
    Conflict,
    /// `TransactionInProgressException`: the same client token is still being applied.
    InProgress,
}

/// What a TransactWriteItems meets at the proxy in front of DynamoDB Local, which itself never
/// conflicts: the next `pending` transactions get `refusal`, the rest go through.
#[derive(Default)]
struct TransactFaults {
    pending: std::sync::atomic::AtomicU32,
    in_progress: std::sync::atomic::AtomicBool,
    /// TransactWriteItems requests that reached the proxy, refused or forwarded.
    seen: std::sync::atomic::AtomicU32,
}

impl TransactFaults {
    fn arm(&self, refusal: Refusal, n: u32) {
        use std::sync::atomic::Ordering::SeqCst;
        self.in_progress
            .store(matches!(refusal, Refusal::InProgress), SeqCst);
        self.pending.store(n, SeqCst);
    }

    fn pending(&self) -> u32 {
        self.pending.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn seen(&self) -> u32 {
        self.seen.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// DynamoDB's JSON answer (awsJson 1.0, HTTP 400), written from its API reference: one
    /// cancellation reason per item, the first item's a conflict.
    fn answer(&self, body: &[u8]) -> toolreg_tests::proxy::Answer {
        let (kind, payload) = if self.in_progress.load(std::sync::atomic::Ordering::SeqCst) {
            (
                "TransactionInProgressException",
                json!({"Message": "Transaction is in progress"}),
            )
        } else {
            let items = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|b| b["TransactItems"].as_array().map(Vec::len))
                .unwrap_or(1);
            let reasons: Vec<_> = (0..items)
                .map(|i| match i {
                    0 => json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}),
                    _ => json!({"Code": "None"}),
                })
                .collect();
            (
                "TransactionCanceledException",
                json!({
                    "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
                    "CancellationReasons": reasons,
                }),
            )
        };
        let mut payload = payload;
        payload["__type"] = json!(format!("com.amazonaws.dynamodb.v20120810#{kind}"));
        toolreg_tests::proxy::Answer {
            status: 400,
            headers: vec![
                ("content-type", "application/x-amz-json-1.0".into()),
                ("x-amzn-requestid", uuid::Uuid::new_v4().to_string()),
            ],
            body: payload.to_string().into_bytes(),
        }
    }
}

/// The proxy's rule: TransactWriteItems are counted and, while faults are pending, refused.
fn transact_faults(faults: &std::sync::Arc<TransactFaults>) -> toolreg_tests::proxy::Rule {
    let faults = std::sync::Arc::clone(faults);
    std::sync::Arc::new(move |_, _, headers, body| {
        use std::sync::atomic::Ordering::SeqCst;
        let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
        if target != Some("DynamoDB_20120810.TransactWriteItems") {
            return None;
        }
        faults.seen.fetch_add(1, SeqCst);
        faults
            .pending
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .ok()
            .map(|_| faults.answer(body))
    })
}

/// How many tools named `name` exist and how many `tool.create` events name it.
async fn tools_and_events(api: &Api, admin: &str, name: &str) -> (usize, usize) {
    let listed = api
        .get(
            &format!("/api/v1/tools?q={}&limit=100", name.to_lowercase()),
            Some(admin),
        )
        .await;
    let tools = listed.names().iter().filter(|n| n.as_str() == name).count();
    let audits = api
        .get(
            "/api/v1/audit-events?action=tool.create&limit=100",
            Some(admin),
        )
        .await;
    let events = audits.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["details"]["name"] == json!(name))
        .count();
    (tools, events)
}

#[tokio::test]
async fn transaction_conflicts_are_retried_and_the_write_lands_once_and_exhaustion_is_a_503() {
    let faults = std::sync::Arc::new(TransactFaults::default());
    let shared = Endpoints::shared();
    let proxy = toolreg_tests::proxy::Proxy::start(&shared.dynamodb, &[], transact_faults(&faults));
    let s = Server::start_with_env(server_env(
        &Endpoints {
            dynamodb: proxy.url.clone(),
            moto: shared.moto.clone(),
        },
        &[],
    ));
    let api = Api::new(&s);
    let admin = api.admin().await;
    let tool = |name: &str| json!({"tool_type": "function", "name": name, "risk_level": "low", "input_schema": {"type": "object"}});

    for refusal in [Refusal::Conflict, Refusal::InProgress] {
        let name = unique("tx_retry");
        let before = faults.seen();
        faults.arm(refusal, 2);
        let r = api.post("/api/v1/tools", Some(&admin), &tool(&name)).await;
        assert_eq!(r.status, 201, "{refusal:?}: {}", r.text);
        assert_eq!(faults.pending(), 0, "{refusal:?}: both refusals were met");
        assert_eq!(
            faults.seen() - before,
            3,
            "{refusal:?}: the transaction was sent again after each refusal, and once more"
        );
        assert_eq!(
            tools_and_events(&api, &admin, &name).await,
            (1, 1),
            "{refusal:?}: one tool and one create event"
        );
    }

    // Conflicting every time: a 503 problem (retry later), never a 500, and nothing landed.
    for refusal in [Refusal::Conflict, Refusal::InProgress] {
        let name = unique("tx_exhausted");
        let before = faults.seen();
        faults.arm(refusal, 1000);
        let started = Instant::now();
        let r = api.post("/api/v1/tools", Some(&admin), &tool(&name)).await;
        let took = started.elapsed();
        faults.arm(refusal, 0);
        r.assert_problem(503);
        assert!(r.header("retry-after").is_some(), "{refusal:?}");
        assert!(
            faults.seen() - before >= 4,
            "{refusal:?}: retried before giving up"
        );
        assert!(took < Duration::from_secs(30), "{refusal:?}: took {took:?}");
        assert_eq!(tools_and_events(&api, &admin, &name).await, (0, 0));
        // No guard item was left behind: the name is free.
        let again = api.post("/api/v1/tools", Some(&admin), &tool(&name)).await;
        assert_eq!(again.status, 201, "{refusal:?}: {}", again.text);
    }
}
