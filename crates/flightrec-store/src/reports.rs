//! Report jobs (issue #21): what was asked for, where the job stands, and
//! the finished file, kept in the store so that jobs survive a restart and
//! any node serves the download.
//!
//! A report holds bodies' text, so it is a derived copy that erasure
//! reaches: erasing a record clears the file of every finished report whose
//! window holds the record's time, in the erasing transaction, and a
//! report built while an erasure committed is not stored (the store
//! compares the tenant's newest `log.erased` record before and after).

/// What a report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportType {
    /// Totals, failures, alerts by rule and severity and their resolution,
    /// governance blocks and dry runs, admin and key changes, erasures.
    ComplianceSummary,
    /// Every record in the window.
    AuditTrail,
    /// Figures per agent.
    AgentActivity,
}

impl ReportType {
    pub const ALL: [ReportType; 3] = [
        ReportType::ComplianceSummary,
        ReportType::AuditTrail,
        ReportType::AgentActivity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportType::ComplianceSummary => "compliance_summary",
            ReportType::AuditTrail => "audit_trail",
            ReportType::AgentActivity => "agent_activity",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The file a report is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Pdf,
    Csv,
    Json,
    Html,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 4] = [
        ReportFormat::Pdf,
        ReportFormat::Csv,
        ReportFormat::Json,
        ReportFormat::Html,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "pdf",
            ReportFormat::Csv => "csv",
            ReportFormat::Json => "json",
            ReportFormat::Html => "html",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "application/pdf",
            ReportFormat::Csv => "text/csv; charset=utf-8",
            ReportFormat::Json => "application/json",
            ReportFormat::Html => "text/html; charset=utf-8",
        }
    }
}

/// Where a report job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    Pending,
    Ready,
    Failed,
    /// It was ready, and an erasure reached a record in its window: its
    /// file is gone.
    Erased,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Pending => "pending",
            ReportStatus::Ready => "ready",
            ReportStatus::Failed => "failed",
            ReportStatus::Erased => "erased",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(ReportStatus::Pending),
            "ready" => Some(ReportStatus::Ready),
            "failed" => Some(ReportStatus::Failed),
            "erased" => Some(ReportStatus::Erased),
            _ => None,
        }
    }
}

/// A report job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportJob {
    pub tenant: String,
    pub id: String,
    pub report_type: ReportType,
    pub format: ReportFormat,
    /// The window (normalised times; `None`: unbounded), `[from, to)`.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Who asked (an email or a key's name).
    pub requested_by: String,
    pub created_at: String,
    pub status: ReportStatus,
    pub finished_at: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// The file's size, once ready.
    pub size: Option<u64>,
    /// What the report was built from (JSON: the checkpoint and the
    /// verification of the log), once ready.
    pub basis: Option<String>,
}

/// How a report job ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    Ready { file: Vec<u8>, basis: String },
    Failed { error: String },
}

impl ReportOutcome {
    /// What ending a job with it stores: its status, file, basis and error.
    pub(crate) fn columns(
        &self,
    ) -> (
        ReportStatus,
        Option<&Vec<u8>>,
        Option<&String>,
        Option<&String>,
    ) {
        match self {
            ReportOutcome::Ready { file, basis } => {
                (ReportStatus::Ready, Some(file), Some(basis), None)
            }
            ReportOutcome::Failed { error } => (ReportStatus::Failed, None, None, Some(error)),
        }
    }
}
