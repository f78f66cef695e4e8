//! A write made only of INSERTs, kept as values ([`Insert`]) so that it can be sent the cheapest
//! way each backend allows ([`Db::insert_all`]): on PostgreSQL as one statement (the inserts
//! joined as data-modifying `WITH` clauses, which commit or fail together in one round trip
//! instead of BEGIN, one round trip per insert, and COMMIT); on SQLite through the group writer,
//! where round trips cost nothing and the shared sync is what counts.

use super::{Backend, Db, Tx};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

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
    /// `sql` must be a single INSERT without `RETURNING`, its placeholders numbered from `$1`.
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
    values: &'q [Value],
) -> Query<'q, Any, AnyArguments<'q>> {
    for value in values {
        query = match value {
            Value::Text(v) => query.bind(v.as_deref()),
            Value::Int(v) => query.bind(*v),
        };
    }
    query
}

/// PostgreSQL: `inserts` as one statement, `WITH w1 AS (first), w2 AS (second) last`, each
/// insert's placeholders moved past those of the inserts before it. PostgreSQL runs every
/// data-modifying `WITH` clause to completion whether or not its result is read, and the
/// statement is atomic: a constraint violation in any part leaves nothing written.
fn joined(inserts: &[Insert]) -> String {
    let mut sql = String::new();
    let mut offset = 0;
    let last = inserts.len() - 1;
    for (i, insert) in inserts.iter().enumerate() {
        let part = renumbered(insert.sql, offset);
        if i < last {
            sql.push_str(if i == 0 { "WITH " } else { ", " });
            sql.push_str(&format!("w{i} AS ({part})"));
        } else {
            if i > 0 {
                sql.push(' ');
            }
            sql.push_str(&part);
        }
        offset += insert.values.len();
    }
    sql
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
    /// Writes `inserts` atomically, answering only once they are durable: on PostgreSQL as one
    /// statement (one round trip, see [`joined`]); on SQLite in the group writer's shared
    /// transaction ([`Db::write`]), where a failing insert undoes this write's other inserts
    /// and nothing else. A unique violation is returned as such on both.
    pub async fn insert_all(&self, inserts: Vec<Insert>) -> Result<(), sqlx::Error> {
        if inserts.is_empty() {
            return Ok(());
        }
        match self.backend {
            Backend::Postgres => {
                let sql = joined(&inserts);
                let values: Vec<Value> = inserts
                    .into_iter()
                    .flat_map(|insert| insert.values)
                    .collect();
                bind(sqlx::query(&sql), &values)
                    .execute(&self.pool)
                    .await
                    .map(|_| ())
            }
            Backend::Sqlite => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_inserts_have_their_placeholders_moved_past_the_earlier_ones() {
        let inserts = vec![
            Insert::new("INSERT INTO a (x, y) VALUES ($1, $2)")
                .int(1)
                .text("one".to_string()),
            Insert::new("INSERT INTO b (x) VALUES ($1)").int(2),
            Insert::new("INSERT INTO c (x, y, z) VALUES ($1, 'done', $2)")
                .int(3)
                .text(None),
        ];
        assert_eq!(
            joined(&inserts),
            "WITH w0 AS (INSERT INTO a (x, y) VALUES ($1, $2)), \
             w1 AS (INSERT INTO b (x) VALUES ($3)) \
             INSERT INTO c (x, y, z) VALUES ($4, 'done', $5)"
        );
    }

    #[test]
    fn a_single_insert_is_sent_as_it_is() {
        let one = vec![Insert::new("INSERT INTO a (x) VALUES ($1)").int(1)];
        assert_eq!(joined(&one), "INSERT INTO a (x) VALUES ($1)");
    }

    #[test]
    fn two_digit_placeholders_are_renumbered_whole() {
        assert_eq!(
            renumbered("VALUES ($9, $10, $11)", 16),
            "VALUES ($25, $26, $27)"
        );
    }
}
