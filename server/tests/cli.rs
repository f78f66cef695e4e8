//! The `paygate` binary as an operator uses it: `--help`, configuration errors, `migrate`,
//! `keys create/list/revoke/rotate-data-key`, `admin create/list/disable`, `events parked/replay`.

use std::process::Command;

fn paygate(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paygate"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.env(
        "DATABASE_URL",
        format!("sqlite://{}", dir.join("cli.db").display()),
    );
    cmd
}

#[test]
fn help_documents_every_command_and_variable() {
    let dir = tempdir();
    let out = paygate(&dir).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in ["serve", "migrate", "keys", "admin", "events"] {
        assert!(text.contains(word), "--help lacks {word}: {text}");
    }
    for (name, _) in paygate::config::VARIABLES {
        assert!(text.contains(name), "--help lacks {name}");
    }
    let keys = paygate(&dir)
        .args(["keys", "create", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8(keys.stdout).unwrap().contains("--name"));
}

#[test]
fn invalid_configuration_stops_start_up_naming_the_variable() {
    let dir = tempdir();
    let out = paygate(&dir)
        .env("PAYGATE_MODE", "production")
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("PAYGATE_MODE"), "{err}");

    let out = paygate(&dir)
        .env("PAYGATE_MODE", "live")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("PAYGATE_DATA_KEY"));

    let out = paygate(&dir)
        .env("PAYGATE_MODE", "live")
        .env("PAYGATE_DATA_KEY", "ab".repeat(32))
        .env("PAYGATE_PROVIDERS", "stripe")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("STRIPE_SECRET_KEY"),
        "live refuses to start without keys"
    );
}

#[test]
fn keys_create_prints_the_key_once_and_stores_only_its_hash() {
    let dir = tempdir();
    let out = paygate(&dir).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = paygate(&dir)
        .args(["keys", "create", "--name", "shop backend"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(key.starts_with("sk_test_") && key.len() == 40, "{key}");
    let url = secrecy::SecretString::from(format!("sqlite://{}", dir.join("cli.db").display()));
    let stored: Vec<(String, String, String)> =
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let db = paygate::db::Db::connect(&url).await.unwrap();
            sqlx::query_as("SELECT name, key_hash, prefix FROM api_keys")
                .fetch_all(&db.pool)
                .await
                .unwrap()
        });
    assert_eq!(stored.len(), 1);
    let (name, hash, prefix) = &stored[0];
    assert_eq!(name, "shop backend");
    assert_eq!(
        hash,
        &paygate::crypto::sha256_hex(key.as_bytes()),
        "only its hash is stored"
    );
    assert_ne!(hash, &key);
    assert!(
        key.starts_with(prefix.as_str()) && prefix.len() < 16,
        "a short prefix to tell keys apart"
    );
    let again = paygate(&dir)
        .args(["keys", "create", "--name", "other"])
        .output()
        .unwrap();
    assert_ne!(String::from_utf8(again.stdout).unwrap().trim(), key);
}

/// `keys list` shows each key by id, prefix and name (never its text); `keys revoke` marks it
/// revoked once, with an audit entry, and refuses an unknown id or a second revocation.
#[test]
fn keys_are_listed_and_revoked_with_an_audit_entry() {
    let dir = tempdir();
    let (ok, out, _) = run_with_stdin(&dir, &["keys", "list"], "");
    assert!(ok && out.starts_with("no keys yet"), "{out}");
    let (ok, first, err) = run_with_stdin(&dir, &["keys", "create", "--name", "backend"], "");
    assert!(ok, "{err}");
    let (ok, second, err) = run_with_stdin(&dir, &["keys", "create", "--name", "reports"], "");
    assert!(ok, "{err}");
    let (ok, listed, err) = run_with_stdin(&dir, &["keys", "list"], "");
    assert!(ok, "{err}");
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    for (line, (key, name)) in lines
        .iter()
        .zip([(&first, "backend"), (&second, "reports")])
    {
        let fields: Vec<&str> = line.split('\t').collect();
        assert!(fields[0].starts_with("key_"), "{line}");
        assert!(
            key.trim().starts_with(fields[1].trim_end_matches('…')),
            "{line}"
        );
        assert_eq!(fields[2], name);
        assert!(fields[3].starts_with("created 20"), "{line}");
        assert_eq!(fields[4], "active");
        assert!(!line.contains(key.trim()), "the key's text is never shown");
    }
    let id = lines[0].split('\t').next().unwrap();

    let (ok, out, err) = run_with_stdin(&dir, &["keys", "revoke", "--id", id], "");
    assert!(ok && out.contains("revoked"), "{out}{err}");
    let (ok, _, err) = run_with_stdin(&dir, &["keys", "revoke", "--id", id], "");
    assert!(!ok && err.contains("already revoked"), "{err}");
    let (ok, _, err) = run_with_stdin(&dir, &["keys", "revoke", "--id", "key_nope"], "");
    assert!(!ok && err.contains("no key"), "{err}");
    let (_, listed, _) = run_with_stdin(&dir, &["keys", "list"], "");
    let states: Vec<&str> = listed
        .lines()
        .map(|l| l.rsplit('\t').next().unwrap())
        .collect();
    assert!(
        states[0].starts_with("revoked 20") && states[1] == "active",
        "{listed}"
    );

    let url = secrecy::SecretString::from(format!("sqlite://{}", dir.join("cli.db").display()));
    let audit: Vec<(String, String, Option<String>)> =
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let db = paygate::db::Db::connect(&url).await.unwrap();
            sqlx::query_as("SELECT actor, action, target FROM admin_audit ORDER BY id")
                .fetch_all(&db.pool)
                .await
                .unwrap()
        });
    assert_eq!(
        audit,
        vec![(
            "cli".to_string(),
            "api_key_revoked".to_string(),
            Some(id.to_string())
        )]
    );
}

#[test]
fn parked_events_are_listed_and_replayed() {
    let dir = tempdir();
    let (ok, out, err) = run_with_stdin(&dir, &["events", "parked"], "");
    assert!(
        ok && out.starts_with("no parked provider events"),
        "{out}{err}"
    );
    // A provider event the worker gave up on, as `inbox::store::park` leaves it.
    let url = secrecy::SecretString::from(format!("sqlite://{}", dir.join("cli.db").display()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db = paygate::db::Db::connect(&url).await.unwrap();
        sqlx::query(
            "INSERT INTO provider_events (provider, event_id, event_type, payload, received_at, \
             next_attempt_at, processed_at, outcome, attempts, last_error) \
             VALUES ('stripe', 'evt_lost', 'payment_intent.succeeded', '{}', 1, 1, 2, 'parked', 36, \
             'no payment with this provider reference yet')",
        )
        .execute(&db.pool)
        .await
        .unwrap();
    });
    let (ok, listed, err) = run_with_stdin(&dir, &["events", "parked"], "");
    assert!(ok, "{err}");
    let fields: Vec<&str> = listed.trim_end().split('\t').collect();
    assert_eq!(
        fields,
        [
            "stripe",
            "evt_lost",
            "payment_intent.succeeded",
            "attempts 36",
            "no payment with this provider reference yet"
        ]
    );
    let (ok, out, err) = run_with_stdin(
        &dir,
        &[
            "events",
            "replay",
            "--provider",
            "stripe",
            "--event-id",
            "evt_lost",
        ],
        "",
    );
    assert!(ok && out.contains("queued"), "{out}{err}");
    let (_, out, _) = run_with_stdin(&dir, &["events", "parked"], "");
    assert!(out.starts_with("no parked provider events"), "{out}");
    let (processed, attempts): (Option<i64>, i64) = runtime.block_on(async {
        let db = paygate::db::Db::connect(&url).await.unwrap();
        sqlx::query_as(
            "SELECT processed_at, attempts FROM provider_events WHERE event_id = 'evt_lost'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap()
    });
    assert_eq!(
        (processed, attempts),
        (None, 0),
        "due again, with fresh attempts"
    );
}

#[test]
fn rotate_data_key_moves_every_value_and_says_when_the_old_key_can_go() {
    use paygate::crypto::{DataCipher, DataKey};
    let dir = tempdir();
    let (k1, k2, k3) = ("a1".repeat(32), "b2".repeat(32), "c3".repeat(32));
    let id = |k: &str| DataKey::from_hex(k).unwrap().id();
    let rotate = |vars: &[(&str, &str)], args: &[&str]| {
        let mut cmd = paygate(&dir);
        cmd.args(["keys", "rotate-data-key"]).args(args);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    // A database written under k1: a customer, a provider event stored in plaintext by a
    // version before bodies were encrypted, and the start-up key check.
    let (ok, _, err) = run_with_stdin(&dir, &["migrate"], "");
    assert!(ok, "{err}");
    let url = secrecy::SecretString::from(format!("sqlite://{}", dir.join("cli.db").display()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let old = DataCipher::new(&DataKey::from_hex(&k1).unwrap());
    runtime.block_on(async {
        let db = paygate::db::Db::connect(&url).await.unwrap();
        sqlx::query(
            "INSERT INTO customers (id, email_ciphertext, email_index, name_ciphertext, metadata, \
             created_at, updated_at) VALUES ('cus_cli', $1, $2, $3, '{}', 1, 1)",
        )
        .bind(old.encrypt("ada@example.com", "customers.email"))
        .bind(old.email_index("ada@example.com"))
        .bind(old.encrypt("Ada Lovelace", "customers.name"))
        .execute(&db.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO provider_events (provider, event_id, event_type, payload, received_at, \
             next_attempt_at) VALUES ('stripe', 'evt_old', 'payment_intent.succeeded', \
             '{\"receipt_email\":\"payer@example.net\"}', 1, 1)",
        )
        .execute(&db.pool)
        .await
        .unwrap();
        paygate::startup::check_data_key(&db, &old).await.unwrap();
    });

    let rotating = [
        ("PAYGATE_DATA_KEY", k2.as_str()),
        ("PAYGATE_DATA_KEYS_PREVIOUS", k1.as_str()),
    ];
    let (ok, out, err) = rotate(&rotating, &["--dry-run"]);
    assert!(ok, "{out}{err}");
    for line in [
        "customers.email_ciphertext\tto re-encrypt 1\talready current 0\tfailed 0",
        "customers.name_ciphertext\tto re-encrypt 1",
        "provider_events.payload\tto re-encrypt 1",
        "4 values are not yet under the current key",
    ] {
        assert!(out.contains(line), "{line:?} in {out}");
    }
    let (ok, out, err) = rotate(&rotating, &["--batch-size", "1"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("current data key: {}", id(&k2))),
        "{out}"
    );
    assert!(
        out.contains("provider_events.payload\tre-encrypted 1"),
        "{out}"
    );
    assert!(
        out.contains("PAYGATE_DATA_KEYS_PREVIOUS can be removed"),
        "{out}"
    );

    // The new key alone finds nothing left; the values read back under it.
    let (ok, out, _) = rotate(&[("PAYGATE_DATA_KEY", &k2)], &["--dry-run"]);
    assert!(
        ok && out.contains(&format!("every value is under data key {}", id(&k2))),
        "{out}"
    );
    let new = DataCipher::new(&DataKey::from_hex(&k2).unwrap());
    let (email, index, payload): (String, String, String) = runtime.block_on(async {
        let db = paygate::db::Db::connect(&url).await.unwrap();
        let (email, index): (String, String) = sqlx::query_as(
            "SELECT email_ciphertext, email_index FROM customers WHERE id = 'cus_cli'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        let payload: String =
            sqlx::query_scalar("SELECT payload FROM provider_events WHERE event_id = 'evt_old'")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        (email, index, payload)
    });
    assert_eq!(
        new.decrypt(&email, "customers.email").unwrap(),
        "ada@example.com"
    );
    assert_eq!(index, new.email_index("ada@example.com"));
    assert!(!payload.contains("payer@"), "encrypted: {payload}");
    assert_eq!(
        new.decrypt(&payload, "provider_events.payload").unwrap(),
        r#"{"receipt_email":"payer@example.net"}"#
    );

    // A key that never held the data: refused before anything is written, naming the key the
    // database is under.
    let (ok, out, err) = rotate(&[("PAYGATE_DATA_KEY", &k3)], &[]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("PAYGATE_DATA_KEY") && err.contains(&id(&k2)),
        "{err}"
    );
    // The right key, but one value under a key nobody configured (a previous key left out):
    // every value is checked first, the unreadable one named, and nothing is changed.
    let stray = DataCipher::new(&DataKey::from_hex(&k3).unwrap());
    runtime.block_on(async {
        let db = paygate::db::Db::connect(&url).await.unwrap();
        sqlx::query(
            "INSERT INTO customers (id, email_ciphertext, email_index, metadata, created_at, \
             updated_at) VALUES ('cus_stray', $1, $2, '{}', 2, 2)",
        )
        .bind(stray.encrypt("grace@example.com", "customers.email"))
        .bind(stray.email_index("grace@example.com"))
        .execute(&db.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO provider_events (provider, event_id, event_type, payload, received_at, \
             next_attempt_at) VALUES ('stripe', 'evt_plain', 'charge.refunded', '{\"id\":\"ch_1\"}', 2, 2)",
        )
        .execute(&db.pool)
        .await
        .unwrap();
    });
    let (ok, out, err) = rotate(&[("PAYGATE_DATA_KEY", &k2)], &[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("customers.email_ciphertext\tto re-encrypt 0\talready current 1\tfailed 1"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "cus_stray: ciphertext was made with data key {}",
            id(&k3)
        )),
        "{out}"
    );
    assert!(
        err.contains("cannot be read with the configured keys; nothing was changed"),
        "{err}"
    );
    let untouched: String = runtime.block_on(async {
        let db = paygate::db::Db::connect(&url).await.unwrap();
        sqlx::query_scalar("SELECT payload FROM provider_events WHERE event_id = 'evt_plain'")
            .fetch_one(&db.pool)
            .await
            .unwrap()
    });
    assert_eq!(
        untouched, r#"{"id":"ch_1"}"#,
        "the plaintext row was not encrypted"
    );
    for key in [&k2, &k3] {
        assert!(
            !out.contains(key.as_str()) && !err.contains(key.as_str()),
            "no key is printed"
        );
    }
}

/// Runs `paygate <args>` with `stdin` piped in; returns (success, stdout, stderr).
fn run_with_stdin(dir: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = paygate(dir)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn admin_create_list_and_disable() {
    let dir = tempdir();
    let password = "a long staff password";
    let (ok, out, err) = run_with_stdin(
        &dir,
        &["admin", "create", "--email", "Ops@Shop.Example"],
        &format!("{password}\n"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("created admin ops@shop.example"), "{out}");
    // The password is read, hashed with Argon2id, and appears in no output.
    assert!(!out.contains(password) && !err.contains(password));

    // Refusals: a duplicate, a short password, a bad email — each says why, nothing is added.
    for (args, stdin, why) in [
        (
            ["admin", "create", "--email", "ops@shop.example"],
            "another long password\n",
            "already exists",
        ),
        (
            ["admin", "create", "--email", "new@shop.example"],
            "short\n",
            "at least 12",
        ),
        (
            ["admin", "create", "--email", "not-an-email"],
            "another long password\n",
            "not an email",
        ),
    ] {
        let (ok, _, err) = run_with_stdin(&dir, &args, stdin);
        assert!(!ok && err.contains(why), "{args:?}: {err}");
    }

    let (ok, out, _) = run_with_stdin(&dir, &["admin"], "");
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with("ops@shop.example\tactive\tadm_"),
        "{out}"
    );

    let (ok, out, err) = run_with_stdin(
        &dir,
        &["admin", "disable", "--email", "ops@shop.example"],
        "",
    );
    assert!(ok, "{err}");
    assert!(out.contains("disabled"));
    let (_, out, _) = run_with_stdin(&dir, &["admin", "list"], "");
    assert!(out.starts_with("ops@shop.example\tdisabled"), "{out}");
    let (ok, _, err) = run_with_stdin(
        &dir,
        &["admin", "disable", "--email", "ghost@shop.example"],
        "",
    );
    assert!(!ok && err.contains("no admin"), "{err}");

    // What was stored, and the audit trail of the command line.
    let url = secrecy::SecretString::from(format!("sqlite://{}", dir.join("cli.db").display()));
    let (hash, audit): (String, Vec<(String, String, Option<String>)>) =
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let db = paygate::db::Db::connect(&url).await.unwrap();
            let hash = sqlx::query_scalar("SELECT password_hash FROM admins")
                .fetch_one(&db.pool)
                .await
                .unwrap();
            let audit = sqlx::query_as("SELECT actor, action, target FROM admin_audit ORDER BY id")
                .fetch_all(&db.pool)
                .await
                .unwrap();
            (hash, audit)
        });
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(paygate::admin::accounts::verify_password(password, &hash));
    assert_eq!(
        audit,
        vec![
            (
                "cli".to_string(),
                "admin_created".to_string(),
                Some("ops@shop.example".to_string())
            ),
            (
                "cli".to_string(),
                "admin_disabled".to_string(),
                Some("ops@shop.example".to_string())
            ),
        ]
    );
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "paygate-cli-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
