//! The store traits, implemented by delegating to the PostgreSQL code of
//! each concern (append, query, log, access, search, guardrails).

use super::PgStore;
use super::heads::log_tenants;
use crate::StoreError;

impl crate::RecordStore for PgStore {
    fn append(
        &self,
        batches: Vec<crate::AppendBatch>,
    ) -> Result<Vec<crate::BatchOutcome>, StoreError> {
        self.append_batches(batches)
    }

    fn record(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<flightrec_core::record::StoredRecord>, StoreError> {
        self.query_record(tenant, id)
    }

    fn records(
        &self,
        tenant: &str,
        query: &crate::EventQuery,
    ) -> Result<crate::Page<flightrec_core::record::StoredRecord>, StoreError> {
        self.query_records(tenant, query)
    }

    fn count_records(
        &self,
        tenant: &str,
        filter: &crate::EventFilter,
    ) -> Result<crate::RecordCounts, StoreError> {
        self.query_counts(tenant, filter)
    }

    fn distinct_values(
        &self,
        tenant: &str,
        facet: crate::Facet,
    ) -> Result<Vec<String>, StoreError> {
        self.query_distinct(tenant, facet)
    }

    fn window_counts(
        &self,
        tenant: &str,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<crate::RecordCounts, StoreError> {
        self.query_window_counts(tenant, since, until)
    }

    fn stats(
        &self,
        tenant: &str,
        since: Option<&str>,
        until: Option<&str>,
        group_by: Option<crate::stats::GroupBy>,
    ) -> Result<crate::stats::StatGroups, StoreError> {
        self.query_stats(tenant, since, until, group_by)
    }

    fn runs(
        &self,
        tenant: &str,
        query: &crate::RunQuery,
    ) -> Result<crate::Page<crate::RunSummary>, StoreError> {
        self.query_runs(tenant, query)
    }

    fn run(&self, tenant: &str, run_id: &str) -> Result<Option<crate::RunSummary>, StoreError> {
        self.query_run(tenant, run_id)
    }

    fn run_records(
        &self,
        tenant: &str,
        run_id: &str,
        query: &crate::RunRecordsQuery,
    ) -> Result<crate::Page<flightrec_core::record::StoredRecord>, StoreError> {
        self.query_run_records(tenant, run_id, query)
    }

    fn log_size(&self, tenant: &str) -> Result<u64, StoreError> {
        self.query_log_size(tenant)
    }

    fn index_search(&self, max: usize) -> Result<usize, StoreError> {
        self.index_pending(max)
    }

    /// Its own pooled connection, each tenant's step under a row lock.
    fn indexes_beside_appends(&self) -> bool {
        true
    }

    fn search_backlog(&self) -> Result<u64, StoreError> {
        self.count_search_backlog()
    }
}

impl crate::AccessStore for PgStore {
    fn tenant(&self, id: &str) -> Result<Option<crate::Tenant>, StoreError> {
        Ok(self.select_tenants(Some(id))?.pop())
    }

    fn tenants(&self) -> Result<Vec<crate::Tenant>, StoreError> {
        self.select_tenants(None)
    }

    fn login(&self, email: &str) -> Result<Option<crate::Login>, StoreError> {
        self.select_login(email)
    }

    fn user(&self, tenant: &str, id: &str) -> Result<Option<crate::User>, StoreError> {
        Ok(self.select_users(tenant, Some(id))?.pop())
    }

    fn users(&self, tenant: &str) -> Result<Vec<crate::User>, StoreError> {
        self.select_users(tenant, None)
    }

    fn api_key_by_secret_hash(
        &self,
        secret_hash: &[u8; 32],
    ) -> Result<Option<crate::ApiKey>, StoreError> {
        self.select_api_key_by_hash(secret_hash)
    }

    fn api_key(&self, tenant: &str, id: &str) -> Result<Option<crate::ApiKey>, StoreError> {
        Ok(self.select_api_keys(tenant, Some(id))?.pop())
    }

    fn api_keys(&self, tenant: &str) -> Result<Vec<crate::ApiKey>, StoreError> {
        self.select_api_keys(tenant, None)
    }

    fn touch_api_key(&self, id: &str, at: &str) -> Result<(), StoreError> {
        self.update_key_last_used(id, at)
    }

    fn settings(&self, tenant: &str) -> Result<serde_json::Value, StoreError> {
        self.read_settings(tenant)
    }

    fn keyring(&self) -> &crate::encryption::Keyring {
        &self.keyring
    }

    fn rewrap_data_keys(&self, to: &dyn crate::encryption::MasterKey) -> Result<u64, StoreError> {
        self.rewrap(to)
    }
}

impl crate::LogStore for PgStore {
    fn snapshot(&self) -> Result<Box<dyn crate::Store>, StoreError> {
        Ok(Box::new(PgStore::snapshot_on(
            self.pool.sibling(),
            self.database.clone(),
            self.keyring.clone(),
        )?))
    }

    fn tile(&self, tenant: &str, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.read_tile(tenant, level, index)
    }

    fn leaf_inputs(
        &self,
        tenant: &str,
        from_seq: u64,
        count: u64,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        self.read_leaf_inputs(tenant, from_seq, count)
    }

    fn checkpoint(
        &self,
        tenant: &str,
        size: Option<u64>,
    ) -> Result<Option<crate::StoredCheckpoint>, StoreError> {
        self.read_checkpoint(tenant, size)
    }

    fn checkpoints(&self, tenant: &str) -> Result<Vec<crate::StoredCheckpoint>, StoreError> {
        self.read_checkpoints(tenant)
    }

    fn inclusion_proof(
        &self,
        tenant: &str,
        seq: u64,
        tree_size: u64,
    ) -> Result<flightrec_core::log::InclusionProof, StoreError> {
        self.prove_inclusion(tenant, seq, tree_size)
    }

    fn consistency_proof(
        &self,
        tenant: &str,
        old_size: u64,
        new_size: u64,
    ) -> Result<flightrec_core::log::ConsistencyProof, StoreError> {
        self.prove_consistency(tenant, old_size, new_size)
    }

    fn sign_checkpoints(&self) -> Result<usize, StoreError> {
        self.sign_due_checkpoints()
    }

    fn add_cosignature(
        &self,
        tenant: &str,
        size: u64,
        witness: &str,
        line: &str,
    ) -> Result<(), StoreError> {
        self.insert_cosignature(tenant, size, witness, line)
    }

    fn cosignatures(&self, tenant: &str, size: u64) -> Result<Vec<String>, StoreError> {
        self.select_cosignatures(tenant, size)
    }

    fn witnessed_size(&self, tenant: &str, witness: &str) -> Result<Option<u64>, StoreError> {
        self.select_witnessed_size(tenant, witness)
    }

    fn log_tenants(&self) -> Result<Vec<String>, StoreError> {
        self.with_client(log_tenants)
    }

    fn log_heads(&self) -> Result<Vec<crate::LogHead>, StoreError> {
        self.select_log_heads()
    }

    fn uncosigned(&self, witness: &str) -> Result<u64, StoreError> {
        self.count_uncosigned(witness)
    }

    fn audit_rows(
        &self,
        tenant: &str,
        seqs: std::ops::Range<u64>,
        into: &mut crate::AuditRows,
    ) -> Result<(), StoreError> {
        self.read_audit_rows(tenant, seqs, into)
    }

    fn check_search_index(&self) -> Result<Option<String>, StoreError> {
        self.search_index_problem()
    }
}

impl crate::GuardrailStore for PgStore {
    fn agent(&self, tenant: &str, id: &str) -> Result<Option<crate::Agent>, StoreError> {
        Ok(self.select_agents(tenant, Some(id))?.pop())
    }

    fn agents(&self, tenant: &str) -> Result<Vec<crate::Agent>, StoreError> {
        self.select_agents(tenant, None)
    }

    fn rule(&self, tenant: &str, id: &str) -> Result<Option<crate::StoredRule>, StoreError> {
        Ok(self.select_rules(tenant, Some(id))?.pop())
    }

    fn rules(&self, tenant: &str) -> Result<Vec<crate::StoredRule>, StoreError> {
        self.select_rules(tenant, None)
    }

    fn policy(
        &self,
        tenant: &str,
        id: &str,
        version: Option<u32>,
    ) -> Result<Option<crate::Policy>, StoreError> {
        Ok(self.select_policies(tenant, Some(id), version)?.pop())
    }

    fn policies(&self, tenant: &str) -> Result<Vec<crate::Policy>, StoreError> {
        self.select_policies(tenant, None, None)
    }

    fn alert(&self, tenant: &str, id: &str) -> Result<Option<crate::Alert>, StoreError> {
        self.select_alert(tenant, id)
    }

    fn alerts(
        &self,
        tenant: &str,
        query: &crate::AlertQuery,
    ) -> Result<crate::Page<crate::Alert>, StoreError> {
        self.select_alerts(tenant, query)
    }

    fn alert_counts(
        &self,
        tenant: &str,
        since: Option<&str>,
        until: Option<&str>,
        by_day: bool,
    ) -> Result<Vec<(String, String, u64)>, StoreError> {
        self.count_alerts(tenant, since, until, by_day)
    }

    fn webhook(&self, tenant: &str, id: &str) -> Result<Option<crate::Webhook>, StoreError> {
        Ok(self.select_webhooks(tenant, Some(id))?.pop())
    }

    fn webhooks(&self, tenant: &str) -> Result<Vec<crate::Webhook>, StoreError> {
        self.select_webhooks(tenant, None)
    }

    fn deliveries(
        &self,
        tenant: &str,
        webhook_id: &str,
        limit: usize,
    ) -> Result<Vec<crate::Delivery>, StoreError> {
        self.select_deliveries(tenant, webhook_id, limit)
    }

    fn claim_deliveries(
        &self,
        now: &str,
        lease_until: &str,
        limit: usize,
    ) -> Result<Vec<crate::Delivery>, StoreError> {
        self.claim_due_deliveries(now, lease_until, limit)
    }

    fn record_attempt(&self, attempt: &crate::DeliveryAttempt) -> Result<(), StoreError> {
        self.update_delivery(attempt)
    }

    fn pending_deliveries(&self) -> Result<u64, StoreError> {
        self.count_pending_deliveries()
    }
}
