//! `paygate keys rotate-data-key`: moves every encrypted value to the current data key, in
//! batches, while paygate serves.
//!
//! The operator first gives every instance the new key as a decrypt-only key
//! (`PAYGATE_DATA_KEYS_PREVIOUS`), then swaps the two (new in `PAYGATE_DATA_KEY`, old in
//! `PAYGATE_DATA_KEYS_PREVIOUS`), so that during each rolling restart every instance can read what
//! any other writes, and then runs this (the command refuses to write unless the configured keys
//! read every value; `main.rs`). Each batch is one short write transaction; each row is updated
//! only if its ciphertext is still the one that was read (compare-and-set), so a value a serving
//! instance changes meanwhile is never overwritten with an older one: the table is read again.
//! Email blind indexes are recomputed with the value, and lookups match the index under every
//! configured key until then. Values that earlier versions stored in plaintext (provider event
//! bodies, idempotent answers) are encrypted on the way. When the report shows nothing left and
//! nothing failed, the old key can leave the configuration.

use crate::crypto::{CryptoError, DataCipher};
use crate::db::{Db, Row};
use crate::startup::DATA_KEY_CHECK_CONTEXT;
use sqlx::Row as _;

#[derive(Debug, Clone, Copy)]
enum KeyKind {
    Int,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Always a ciphertext.
    Sealed,
    /// A ciphertext, or plaintext written by a version before the column was encrypted.
    SealedOrPlain,
    /// The demo shop's settings row: JSON holding a ciphertext.
    DemoShopSettings,
}

struct EncryptedColumn {
    name: &'static str,
    context: &'static str,
    form: Form,
    /// The email blind index computed from this column's plaintext.
    index: Option<&'static str>,
}

struct Table {
    name: &'static str,
    key: &'static [(&'static str, KeyKind)],
    /// Selects the encrypted rows of a table that holds others too (`settings`).
    only: Option<&'static str>,
    columns: &'static [EncryptedColumn],
}

const fn sealed(name: &'static str, context: &'static str) -> EncryptedColumn {
    EncryptedColumn {
        name,
        context,
        form: Form::Sealed,
        index: None,
    }
}

/// Every encrypted value paygate stores. A new encrypted column is added here, or rotation
/// leaves it under the old key (the e2e test of rotation reads every one back with the new key
/// alone).
const TABLES: &[Table] = &[
    Table {
        name: "customers",
        key: &[("id", KeyKind::Text)],
        only: None,
        columns: &[
            EncryptedColumn {
                index: Some("email_index"),
                ..sealed("email_ciphertext", crate::customers::repo::EMAIL_CONTEXT)
            },
            sealed("name_ciphertext", crate::customers::repo::NAME_CONTEXT),
        ],
    },
    Table {
        name: "checkout_sessions",
        key: &[("id", KeyKind::Text)],
        only: None,
        columns: &[EncryptedColumn {
            index: Some("customer_email_index"),
            ..sealed(
                "customer_email_ciphertext",
                crate::checkout::record::EMAIL_CONTEXT,
            )
        }],
    },
    Table {
        name: "webhook_endpoints",
        key: &[("id", KeyKind::Text)],
        only: None,
        columns: &[
            sealed(
                "secret_ciphertext",
                crate::merchant_webhooks::SECRET_CONTEXT,
            ),
            sealed(
                "previous_secret_ciphertext",
                crate::merchant_webhooks::SECRET_CONTEXT,
            ),
        ],
    },
    Table {
        name: "provider_events",
        key: &[("id", KeyKind::Int)],
        only: None,
        columns: &[EncryptedColumn {
            form: Form::SealedOrPlain,
            ..sealed("payload", crate::inbox::store::PAYLOAD_CONTEXT)
        }],
    },
    Table {
        name: "idempotency_keys",
        key: &[
            ("merchant_id", KeyKind::Text),
            ("idempotency_key", KeyKind::Text),
        ],
        only: None,
        columns: &[EncryptedColumn {
            form: Form::SealedOrPlain,
            ..sealed("response_body", crate::http::idempotency::RESPONSE_CONTEXT)
        }],
    },
    Table {
        name: "settings",
        key: &[("key", KeyKind::Text)],
        only: Some("key = 'data_key_check'"),
        columns: &[sealed("value", DATA_KEY_CHECK_CONTEXT)],
    },
    Table {
        name: "settings",
        key: &[("key", KeyKind::Text)],
        // crate::pages::demo_shop::registration::SETTINGS_KEY
        only: Some("key = 'demo_shop.webhook_endpoint'"),
        columns: &[EncryptedColumn {
            form: Form::DemoShopSettings,
            ..sealed("value", "")
        }],
    },
];

/// How many times a table is read again after rows changed under the rotation.
const MAX_PASSES: usize = 5;

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Rows read and written per transaction.
    pub batch_size: i64,
    /// Count what would be re-encrypted, change nothing.
    pub dry_run: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch_size: 500,
            dry_run: false,
        }
    }
}

/// One encrypted column's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnReport {
    pub table: &'static str,
    pub column: &'static str,
    /// Values re-encrypted under the current key (with `dry_run`: that would be).
    pub rotated: u64,
    /// Values already under the current key.
    pub current: u64,
    /// Values that could not be read, with the row's key and why (a key missing from the
    /// configuration, a damaged value); left as they are.
    pub failed: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub current_key_id: String,
    pub columns: Vec<ColumnReport>,
    /// Rows a serving instance changed between our read and our write (read again).
    pub changed_meanwhile: u64,
    /// Rows still changing after the last pass, left for the next run.
    pub left_changing: u64,
}

impl Report {
    pub fn rotated(&self) -> u64 {
        self.columns.iter().map(|c| c.rotated).sum()
    }

    pub fn failed(&self) -> usize {
        self.columns.iter().map(|c| c.failed.len()).sum()
    }

    /// Whether every value is under the current key (the previous keys can go).
    pub fn complete(&self, dry_run: bool) -> bool {
        self.failed() == 0 && self.left_changing == 0 && (!dry_run || self.rotated() == 0)
    }
}

/// Re-encrypts every value not under `cipher`'s current key.
pub async fn rotate(db: &Db, cipher: &DataCipher, options: Options) -> Result<Report, sqlx::Error> {
    let mut report = Report {
        current_key_id: cipher.current_key_id().to_string(),
        ..Report::default()
    };
    for table in TABLES {
        let mut columns: Vec<ColumnReport> = table
            .columns
            .iter()
            .map(|c| ColumnReport {
                table: table.name,
                column: c.name,
                ..ColumnReport::default()
            })
            .collect();
        let mut pass = 0;
        loop {
            pass += 1;
            for c in &mut columns {
                c.failed.clear();
            }
            let changed = rotate_table(db, cipher, table, options, &mut columns, pass == 1).await?;
            report.changed_meanwhile += changed;
            if changed == 0 || options.dry_run {
                break;
            }
            if pass == MAX_PASSES {
                report.left_changing += changed;
                break;
            }
        }
        report.columns.extend(columns);
    }
    Ok(report)
}

#[derive(Debug, Clone)]
enum Value {
    Int(i64),
    Text(String),
}

impl Value {
    fn display(values: &[Value]) -> String {
        values
            .iter()
            .map(|v| match v {
                Value::Int(i) => i.to_string(),
                Value::Text(t) => t.clone(),
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// One pass over `table`; returns how many rows changed under it.
async fn rotate_table(
    db: &Db,
    cipher: &DataCipher,
    table: &Table,
    options: Options,
    reports: &mut [ColumnReport],
    count_current: bool,
) -> Result<u64, sqlx::Error> {
    let key_list = table
        .key
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ");
    let columns = table
        .columns
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ");
    let mut cursor: Option<Vec<Value>> = None;
    let mut changed_meanwhile = 0;
    loop {
        let mut conditions: Vec<String> = table.only.iter().map(|o| o.to_string()).collect();
        if cursor.is_some() {
            // Keyset pagination: a row-value comparison on the primary key (both databases).
            conditions.push(format!(
                "({key_list}) > ({})",
                crate::db::placeholders(1, table.key.len())
            ));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {key_list}, {columns} FROM {}{filter} ORDER BY {key_list} LIMIT {}",
            table.name, options.batch_size
        );
        let mut query = sqlx::query(&sql);
        for v in cursor.iter().flatten() {
            query = bind(query, v.clone());
        }
        let rows = query.fetch_all(&db.pool).await?;
        let Some(last) = rows.last() else {
            return Ok(changed_meanwhile);
        };
        cursor = Some(read_key(table, last)?);

        let mut updates = Vec::new();
        for row in &rows {
            let key = read_key(table, row)?;
            let mut update = Update::default();
            for (column, report) in table.columns.iter().zip(reports.iter_mut()) {
                let Some(stored) = row.try_get::<Option<String>, _>(column.name)? else {
                    continue;
                };
                match reseal(cipher, column, &stored) {
                    Ok(None) => {
                        if count_current {
                            report.current += 1;
                        }
                    }
                    Ok(Some(resealed)) => {
                        update.columns.push((column, stored, resealed));
                    }
                    Err(e) => report.failed.push((Value::display(&key), e.to_string())),
                }
            }
            if !update.columns.is_empty() {
                updates.push((key, update));
            }
        }
        if options.dry_run {
            for (_, update) in &updates {
                for (column, _, _) in &update.columns {
                    report_of(table, reports, column.name).rotated += 1;
                }
            }
            continue;
        }
        if updates.is_empty() {
            continue;
        }
        let mut tx = db.begin_write().await?;
        let mut done = Vec::new();
        for (key, update) in updates {
            let (sql, binds) = update.statement(table, &key);
            let mut query = sqlx::query(&sql);
            for v in binds {
                query = bind(query, v);
            }
            if query.execute(&mut *tx).await?.rows_affected() == 1 {
                done.push(update);
            } else {
                changed_meanwhile += 1;
            }
        }
        tx.commit().await?;
        for update in done {
            for (column, _, _) in &update.columns {
                report_of(table, reports, column.name).rotated += 1;
            }
        }
    }
}

fn report_of<'a>(
    table: &Table,
    reports: &'a mut [ColumnReport],
    column: &str,
) -> &'a mut ColumnReport {
    let i = table
        .columns
        .iter()
        .position(|c| c.name == column)
        .expect("a column of this table");
    &mut reports[i]
}

/// The new stored form of a value not under the current key (None: nothing to do).
fn reseal(
    cipher: &DataCipher,
    column: &EncryptedColumn,
    stored: &str,
) -> Result<Option<Resealed>, CryptoError> {
    if column.form == Form::DemoShopSettings {
        return Ok(
            crate::pages::demo_shop::registration::reseal(cipher, stored)?
                .map(|value| Resealed { value, index: None }),
        );
    }
    if cipher.is_current(stored) {
        return Ok(None);
    }
    let plain = match column.form {
        Form::SealedOrPlain => cipher.decrypt_or_plain(stored, column.context)?,
        _ => cipher.decrypt(stored, column.context)?,
    };
    Ok(Some(Resealed {
        value: cipher.encrypt(&plain, column.context),
        index: column.index.map(|_| cipher.email_index(&plain)),
    }))
}

struct Resealed {
    value: String,
    /// The recomputed blind index, for a column that has one.
    index: Option<String>,
}

#[derive(Default)]
struct Update<'t> {
    /// (column, the value read, its new form)
    columns: Vec<(&'t EncryptedColumn, String, Resealed)>,
}

impl Update<'_> {
    /// `UPDATE ... SET` the new values `WHERE` the key matches and every value is still the one
    /// read.
    fn statement(&self, table: &Table, key: &[Value]) -> (String, Vec<Value>) {
        let mut binds = Vec::new();
        let next = |v: Value, binds: &mut Vec<Value>| {
            binds.push(v);
            format!("${}", binds.len())
        };
        let mut sets = Vec::new();
        let mut conditions = Vec::new();
        for (column, read, resealed) in &self.columns {
            sets.push(format!(
                "{} = {}",
                column.name,
                next(Value::Text(resealed.value.clone()), &mut binds)
            ));
            if let (Some(index), Some(value)) = (column.index, &resealed.index) {
                sets.push(format!(
                    "{index} = {}",
                    next(Value::Text(value.clone()), &mut binds)
                ));
            }
            conditions.push(format!(
                "{} = {}",
                column.name,
                next(Value::Text(read.clone()), &mut binds)
            ));
        }
        for ((name, _), value) in table.key.iter().zip(key) {
            conditions.push(format!("{name} = {}", next(value.clone(), &mut binds)));
        }
        (
            format!(
                "UPDATE {} SET {} WHERE {}",
                table.name,
                sets.join(", "),
                conditions.join(" AND ")
            ),
            binds,
        )
    }
}

fn read_key(table: &Table, row: &Row) -> Result<Vec<Value>, sqlx::Error> {
    table
        .key
        .iter()
        .map(|(name, kind)| {
            Ok(match kind {
                KeyKind::Int => Value::Int(row.try_get(*name)?),
                KeyKind::Text => Value::Text(row.try_get(*name)?),
            })
        })
        .collect()
}

fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    value: Value,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    match value {
        Value::Int(i) => query.bind(i),
        Value::Text(t) => query.bind(t),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_shop_row_is_the_one_registration_writes() {
        assert!(super::TABLES.iter().any(|t| t.only
            == Some(&*format!(
                "key = '{}'",
                crate::pages::demo_shop::registration::SETTINGS_KEY
            ))));
    }
}
