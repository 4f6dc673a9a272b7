//! `/api/v1/tools/*`, one module per use case, each owning its request and response shapes.
//! What they share: the tool as clients see it, and the id in the path.

pub mod create;
pub mod drift;
pub mod get;
pub mod lifecycle;
pub mod list;
pub mod probe;
pub mod update;

use crate::domain::drift::Drift;
use crate::domain::tool::{ProbeRecord, RiskLevel, Tool, ToolId, ToolKind, ToolType};
use crate::error::AppResult;
pub(super) use crate::http::body::present;
use crate::http::{ApiRequest, ApiResponse};
use crate::probe::TransportPreference;
use crate::services::tools as svc;
use serde::Serialize;

/// A tool as clients see it: header names, never values.
#[derive(Serialize)]
pub struct ToolView<'a> {
    pub id: ToolId,
    pub tool_type: ToolType,
    pub name: &'a str,
    pub display_name: &'a str,
    pub description: &'a str,
    pub risk_level: RiskLevel,
    pub is_active: bool,
    pub tags: &'a [String],
    pub version: u64,
    pub created_at: &'a str,
    pub updated_at: &'a str,
    pub created_by: &'a str,
    pub updated_by: &'a str,
    #[serde(flatten)]
    pub kind: KindView<'a>,
}

/// The fields only one kind of tool has.
#[derive(Serialize)]
#[serde(untagged)]
pub enum KindView<'a> {
    Function {
        input_schema: &'a serde_json::Value,
    },
    Remote {
        server_url: &'a str,
        transport_preference: TransportPreference,
        static_header_names: &'a [String],
        requires_per_user_auth: bool,
        probe: Option<&'a ProbeRecord>,
        /// The tool list found differs from the approved one.
        drifted: bool,
        /// `tools_sha256` of the approved tool list (`null` until a probe listed tools).
        approved_tools_sha256: Option<&'a str>,
        tool_drift: Option<DriftView<'a>>,
    },
}

/// How the tool list found differs from the approved one.
#[derive(Serialize)]
pub struct DriftView<'a> {
    pub detected_at: &'a str,
    pub added: &'a [String],
    pub removed: &'a [String],
    pub changed: &'a [String],
    pub partial: bool,
    /// `tools_sha256` of the list found (what approving accepts).
    pub tools_sha256: &'a str,
}

impl<'a> From<&'a Drift> for DriftView<'a> {
    fn from(d: &'a Drift) -> Self {
        Self {
            detected_at: &d.detected_at,
            added: &d.added,
            removed: &d.removed,
            changed: &d.changed,
            partial: d.partial,
            tools_sha256: &d.current.sha256,
        }
    }
}

impl<'a> From<&'a Tool> for ToolView<'a> {
    fn from(t: &'a Tool) -> Self {
        Self {
            id: t.id,
            tool_type: t.tool_type(),
            name: &t.name,
            display_name: &t.display_name,
            description: &t.description,
            risk_level: t.risk_level,
            is_active: t.is_active,
            tags: &t.tags,
            version: t.version,
            created_at: &t.created_at,
            updated_at: &t.updated_at,
            created_by: &t.created_by,
            updated_by: &t.updated_by,
            kind: match &t.kind {
                ToolKind::Function { input_schema } => KindView::Function { input_schema },
                ToolKind::Remote(r) => KindView::Remote {
                    server_url: &r.server_url,
                    transport_preference: r.transport_preference,
                    static_header_names: &r.header_names,
                    requires_per_user_auth: r.requires_per_user_auth,
                    probe: r.last_probe.as_ref(),
                    drifted: r.drift.is_some(),
                    approved_tools_sha256: r.approved_tools.as_ref().map(|l| l.sha256.as_str()),
                    tool_drift: r.drift.as_ref().map(DriftView::from),
                },
            },
        }
    }
}

/// A `{"items": [...], "next_cursor": ...}` page.
#[derive(Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A tool with its `ETag`: the answer of the tool routes (and of idempotent replays). Serialised
/// straight to bytes: going through a `serde_json::Value` (which sorted the keys) was a fifth of
/// a listing's CPU (docs/benchmarks.md).
pub(crate) fn tool_response(status: u16, t: &Tool) -> AppResult<ApiResponse> {
    Ok(ApiResponse::json(status, &ToolView::from(t)).with_header("etag", &t.etag()))
}

/// The tool id in the path, parsed once here: one that cannot name a tool is a 404, as a
/// tool that does not exist is.
fn tool_id(req: &ApiRequest) -> AppResult<ToolId> {
    let raw = req.path_param("id");
    ToolId::parse(raw).ok_or_else(|| svc::get::not_found(raw))
}
