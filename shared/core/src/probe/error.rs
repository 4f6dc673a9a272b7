//! Why a probe stopped, inside the prober. It leaves the prober only as the outcome's text.

/// A probe that could not pass.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProbeError {
    /// Refused before any request: the URL, its address or a static header is not acceptable.
    #[error("{0}")]
    Refused(String),
    /// The 2026-07-28 request was refused without a recognised modern error: the server may
    /// speak an `initialize`-handshake revision instead.
    #[error("{0}")]
    Legacy(String),
    /// 400/404/405 on streamable HTTP: the server may speak legacy SSE instead.
    #[error("{0}")]
    Fallback(String),
    /// The exchange went wrong, with a reason a person can act on.
    #[error("{0}")]
    Failed(String),
    /// `auto`: streamable HTTP declined and legacy SSE failed too.
    #[error("{streamable}; legacy SSE: {sse}")]
    BothFailed {
        streamable: String,
        sse: Box<ProbeError>,
    },
}

/// One step of a probe.
pub(crate) type Step<T> = Result<T, ProbeError>;
