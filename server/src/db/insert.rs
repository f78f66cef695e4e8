//! A write made only of INSERTs, kept as values ([`Insert`]) so that it can be sent the cheapest
//! way each backend allows ([`Db::insert_all`]): on PostgreSQL as one statement with the writes
//! of other requests (the inserts joined as multi-row, data-modifying `WITH` clauses, which
//! commit or fail together in one round trip, where each write alone took BEGIN, one round trip
//! per insert, and COMMIT); on SQLite through the group writer, where round trips cost nothing
//! and the shared sync is what counts.

use super::group_commit::{SendBatch, Waiting};
use super::{Db, Tx};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyPool};

/// A value for one placeholder. Only the kinds paygate's columns hold: text and integers
/// (timestamps, minor units), either possibly NULL.
#[derive(Debug, Clone)]
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

/// One `INSERT` with `$1..$n` placeholders and their values, in order.
#[derive(Debug, Clone)]
pub struct Insert {
    sql: &'static str,
    values: Vec<Value>,
}

impl Insert {
    /// `sql` must be a single INSERT that ends with its one `VALUES (...)` tuple (no
    /// `ON CONFLICT`, no `RETURNING`), its placeholders numbered from `$1`.
    pub fn new(sql: &'static str) -> Insert {
        Insert {
            sql,
            values: Vec::new(),
        }
    }

    pub fn text(mut self, value: impl Into<Option<String>>) -> Insert {
        self.values.push(Value::Text(value.into()));
        self
    }

    pub fn int(mut self, value: impl Into<Option<i64>>) -> Insert {
        self.values.push(Value::Int(value.into()));
        self
    }

    /// Runs this insert alone, in the caller's transaction.
    pub async fn execute(&self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        bind(sqlx::query(self.sql), &self.values)
            .execute(&mut **tx)
            .await
            .map(|_| ())
    }
}

fn bind<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    values: impl IntoIterator<Item = &'q Value>,
) -> Query<'q, Any, AnyArguments<'q>> {
    for value in values {
        query = match value {
            Value::Text(v) => query.bind(v.as_deref()),
            Value::Int(v) => query.bind(*v),
        };
    }
    query
}

/// PostgreSQL: `inserts` as one statement. Inserts with the same text become one multi-row
/// INSERT (their rows in the order given), and the distinct INSERTs are joined as
/// `WITH w0 AS (first), w1 AS (second) last`, each part's placeholders moved past those before
/// it. PostgreSQL runs every data-modifying `WITH` clause to completion whether or not its
/// result is read, and the statement is atomic: a constraint violation in any part leaves
/// nothing written. Returns the statement and its values in placeholder order.
fn joined<'i>(inserts: &[&'i Insert]) -> (String, Vec<&'i Value>) {
    // The distinct statements in order of first appearance, each with its inserts.
    let mut groups: Vec<(&'static str, Vec<&'i Insert>)> = Vec::new();
    for insert in inserts {
        match groups.iter_mut().find(|(sql, _)| *sql == insert.sql) {
            Some((_, members)) => members.push(insert),
            None => groups.push((insert.sql, vec![insert])),
        }
    }
    let mut parts = Vec::with_capacity(groups.len());
    let mut values = Vec::new();
    for (sql, members) in &groups {
        let rows = sql
            .rfind(" VALUES ")
            .map(|at| sql.split_at(at + 8))
            .filter(|(_, row)| is_one_tuple(row));
        match rows {
            Some((head, row)) if members.len() > 1 => {
                let rows = members
                    .iter()
                    .map(|insert| {
                        let row = renumbered(row, values.len());
                        values.extend(insert.values.iter());
                        row
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                parts.push(format!("{head}{rows}"));
            }
            _ => {
                for insert in members {
                    parts.push(renumbered(insert.sql, values.len()));
                    values.extend(insert.values.iter());
                }
            }
        }
    }
    let last = parts.pop().expect("at least one insert");
    let mut sql = String::new();
    for (i, part) in parts.iter().enumerate() {
        sql.push_str(if i == 0 { "WITH " } else { ", " });
        sql.push_str(&format!("w{i} AS ({part})"));
    }
    if !parts.is_empty() {
        sql.push(' ');
    }
    sql.push_str(&last);
    (sql, values)
}

/// Whether `text` is exactly one parenthesised tuple, so that rows can be repeated after
/// `VALUES` (anything after the tuple, such as `ON CONFLICT`, would be repeated with it).
fn is_one_tuple(text: &str) -> bool {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i == text.len() - 1;
                }
            }
            _ if depth == 0 => return false,
            _ => {}
        }
    }
    false
}

/// `sql` with every placeholder `$n` written `$(n + offset)`. The statements given to
/// [`Insert::new`] are paygate's own, with no `$` inside literals.
fn renumbered(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut digits = String::new();
        while let Some(&(_, d)) = chars.peek() {
            if !d.is_ascii_digit() {
                break;
            }
            digits.push(d);
            chars.next();
        }
        match digits.parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&digits),
        }
    }
    out
}

impl Db {
    /// Writes `inserts` atomically, answering only once they are durable. On PostgreSQL the
    /// writes of concurrent requests are sent together as one statement ([`InsertBatches`]):
    /// one round trip, one executor start and one commit for all of them. On SQLite they share
    /// the group writer's transaction ([`Db::write`]), where a failing insert undoes this
    /// write's other inserts and nothing else. A unique violation is returned as such on both.
    pub async fn insert_all(&self, inserts: Vec<Insert>) -> Result<(), sqlx::Error> {
        if inserts.is_empty() {
            return Ok(());
        }
        match &self.inserts {
            Some(group) => group
                .submit(inserts)
                .await
                .unwrap_or(Err(sqlx::Error::PoolClosed)),
            None => {
                self.write(move |tx| {
                    Box::pin(async move {
                        for insert in &inserts {
                            insert.execute(tx).await?;
                        }
                        Ok(())
                    })
                })
                .await
            }
        }
    }
}

/// Most writes one statement carries: a checkout session's write has 29 values, so a full
/// batch has under 2,000 (PostgreSQL allows 65,535).
pub(super) const MAX_BATCH: usize = 64;

/// Statements in flight at once ([`super::group_commit`]).
pub(super) const MAX_SENDERS: usize = 6;

/// How [`Db::insert_all`]'s writes are sent on PostgreSQL, through a
/// [`GroupCommit`](super::group_commit::GroupCommit): each batch as one statement. A batch that
/// the database refuses (a key taken by a concurrent request) is sent again write by write, so
/// each write gets its own answer and one write's conflict costs the others nothing but the
/// retry; a batch lost with its connection fails for all its writes alike.
#[derive(Debug)]
pub(super) struct InsertBatches {
    pub pool: AnyPool,
}

impl SendBatch for InsertBatches {
    type Item = Vec<Insert>;
    type Answer = Result<(), sqlx::Error>;

    async fn send(&self, batch: Vec<Waiting<Vec<Insert>, Result<(), sqlx::Error>>>) {
        let all: Vec<&Insert> = batch.iter().flat_map(|w| w.item.iter()).collect();
        let sent = send(&self.pool, &all).await;
        match sent {
            Ok(()) => {
                for w in batch {
                    let _ = w.done.send(Ok(()));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some(w) = batch.into_iter().next() {
                    let _ = w.done.send(Err(e));
                }
            }
            // A constraint of one write (a key taken): the others are sent again, each alone,
            // and each gets its own answer. A write whose request has gone is not sent again.
            Err(sqlx::Error::Database(_)) => {
                for w in batch {
                    if w.done.is_closed() {
                        continue;
                    }
                    let own: Vec<&Insert> = w.item.iter().collect();
                    let _ = w.done.send(send(&self.pool, &own).await);
                }
            }
            // The connection or the pool failed, for all of them alike: sending each again
            // would only wait out the same failure once per write.
            Err(e) => {
                for w in batch {
                    let _ = w.done.send(Err(super::grouped_failure(&e)));
                }
            }
        }
    }
}

async fn send(pool: &AnyPool, inserts: &[&Insert]) -> Result<(), sqlx::Error> {
    let (sql, values) = joined(inserts);
    bind(sqlx::query(&sql), values)
        .execute(pool)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_inserts_have_their_placeholders_moved_past_the_earlier_ones() {
        let inserts = [
            Insert::new("INSERT INTO a (x, y) VALUES ($1, $2)")
                .int(1)
                .text("one".to_string()),
            Insert::new("INSERT INTO b (x) VALUES ($1)").int(2),
            Insert::new("INSERT INTO c (x, y, z) VALUES ($1, 'done', $2)")
                .int(3)
                .text(None),
        ];
        let refs: Vec<&Insert> = inserts.iter().collect();
        let (sql, values) = joined(&refs);
        assert_eq!(
            sql,
            "WITH w0 AS (INSERT INTO a (x, y) VALUES ($1, $2)), \
             w1 AS (INSERT INTO b (x) VALUES ($3)) \
             INSERT INTO c (x, y, z) VALUES ($4, 'done', $5)"
        );
        assert_eq!(values.len(), 5);
    }

    #[test]
    fn a_single_insert_is_sent_as_it_is() {
        let one = Insert::new("INSERT INTO a (x) VALUES ($1)").int(1);
        assert_eq!(joined(&[&one]).0, "INSERT INTO a (x) VALUES ($1)");
    }

    #[test]
    fn the_same_insert_of_several_writes_becomes_one_multi_row_insert_in_their_order() {
        let session = |id: &str| {
            Insert::new("INSERT INTO s (id, status) VALUES ($1, 'open')").text(id.to_string())
        };
        let event = |id: &str| {
            Insert::new("INSERT INTO e (id, at) VALUES ($1, $2)")
                .text(id.to_string())
                .int(7)
        };
        let writes = [session("s1"), event("e1"), session("s2"), event("e2")];
        let refs: Vec<&Insert> = writes.iter().collect();
        let (sql, values) = joined(&refs);
        assert_eq!(
            sql,
            "WITH w0 AS (INSERT INTO s (id, status) VALUES ($1, 'open'), ($2, 'open')) \
             INSERT INTO e (id, at) VALUES ($3, $4), ($5, $6)"
        );
        let texts: Vec<String> = values
            .iter()
            .map(|v| match v {
                Value::Text(t) => t.clone().unwrap_or_default(),
                Value::Int(i) => i.unwrap_or_default().to_string(),
            })
            .collect();
        assert_eq!(texts, ["s1", "s2", "e1", "7", "e2", "7"]);
    }

    #[test]
    fn an_insert_with_a_clause_after_its_values_is_not_repeated_per_row() {
        let upsert = |id: &str| {
            Insert::new("INSERT INTO s (id) VALUES ($1) ON CONFLICT (id) DO NOTHING")
                .text(id.to_string())
        };
        let writes = [upsert("a"), upsert("b")];
        let refs: Vec<&Insert> = writes.iter().collect();
        assert_eq!(
            joined(&refs).0,
            "WITH w0 AS (INSERT INTO s (id) VALUES ($1) ON CONFLICT (id) DO NOTHING) \
             INSERT INTO s (id) VALUES ($2) ON CONFLICT (id) DO NOTHING"
        );
        assert!(is_one_tuple("($1, 'a (b)', $2)"));
        assert!(!is_one_tuple("($1) ON CONFLICT DO NOTHING"));
        assert!(!is_one_tuple("($1), ($2)"));
    }

    #[test]
    fn two_digit_placeholders_are_renumbered_whole() {
        assert_eq!(
            renumbered("VALUES ($9, $10, $11)", 16),
            "VALUES ($25, $26, $27)"
        );
    }
}
