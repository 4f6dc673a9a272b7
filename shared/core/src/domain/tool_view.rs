//! A tool as clients see it (the API's `Tool` schema, and `/mcp`'s `get_tool`): header names,
//! never their values.

use crate::domain::drift::Drift;
use crate::domain::probe::TransportPreference;
use crate::domain::tool::{ProbeRecord, RiskLevel, Tool, ToolId, ToolKind, ToolType};
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
