//! Leases for periodic jobs that must run on one instance at a time (reconciliation and the
//! session-expiry sweep). Several instances on one PostgreSQL database each tick; the one that
//! holds the job's lease runs the pass and renews the lease before each unit of work, so two
//! instances never re-read one payment from its provider at once. A lease left by an instance
//! that died runs out after its time to live and is taken by the next instance that ticks.
//!
//! Work claimed row by row (the inbox, merchant webhook deliveries, the event bus) has leases
//! on its rows instead; this is for jobs whose units are chosen by a query each pass.

use crate::db::Db;

/// One instance's hold on one job.
#[derive(Debug, Clone)]
pub struct JobLease {
    job: &'static str,
    holder: String,
    ttl_ms: i64,
}

impl JobLease {
    /// A lease on `job` for the instance `holder` (its `AppState::instance_id`), `ttl_ms`
    /// long each time it is taken or renewed.
    pub fn new(job: &'static str, holder: &str, ttl_ms: i64) -> JobLease {
        JobLease {
            job,
            holder: holder.to_string(),
            ttl_ms,
        }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Takes the lease if it is free or has run out, or renews it if this instance holds it;
    /// whether this instance holds it now. One statement, so two instances racing for a free
    /// lease cannot both win (the row's primary key and the upsert's condition decide).
    pub async fn hold(&self, db: &Db, now_ms: i64) -> Result<bool, sqlx::Error> {
        let taken = sqlx::query(
            "INSERT INTO job_leases (job, holder, until) VALUES ($1, $2, $3) \
             ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until = excluded.until \
             WHERE job_leases.holder = excluded.holder OR job_leases.until < $4",
        )
        .bind(self.job)
        .bind(&self.holder)
        .bind(now_ms + self.ttl_ms)
        .bind(now_ms)
        .execute(&db.pool)
        .await?;
        Ok(taken.rows_affected() == 1)
    }

    /// Gives the lease up (graceful shutdown), so another instance need not wait it out.
    pub async fn release(&self, db: &Db) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM job_leases WHERE job = $1 AND holder = $2")
            .bind(self.job)
            .bind(&self.holder)
            .execute(&db.pool)
            .await?;
        Ok(())
    }
}
