-- Periodic jobs that must run on one instance at a time (reconciliation with the session-expiry
-- sweep): an instance runs a pass only while it holds the job's lease, renewed as the pass goes;
-- a lease left by an instance that died runs out and another instance takes it. Work that is
-- claimed row by row (the inbox, merchant webhook deliveries, the event bus) does not use this.
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY,
    -- The instance holding the lease (a random id chosen at start-up).
    holder TEXT NOT NULL,
    -- Unix milliseconds; after this any instance may take the lease.
    until BIGINT NOT NULL
);
