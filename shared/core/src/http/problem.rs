//! RFC 9457 problem responses: the one place where errors become HTTP.

use super::response::ApiResponse;
use crate::error::{AppError, FieldError};
use serde_json::json;

/// Builds a problem response with the fields every problem carries.
pub fn problem(
    status: u16,
    slug: &str,
    title: &str,
    detail: &str,
    request_id: &str,
) -> ApiResponse {
    ApiResponse::problem(
        status,
        json!({
            "type": format!("urn:toolreg:problem:{slug}"),
            "title": title,
            "status": status,
            "detail": detail,
            "request_id": request_id,
        }),
    )
}

fn validation(errors: &[FieldError], request_id: &str) -> ApiResponse {
    let detail = match errors {
        [one] => format!("{}: {}", display_pointer(&one.pointer), one.detail),
        many => format!("{} fields are invalid", many.len()),
    };
    let mut r = problem(
        422,
        "validation-error",
        "Invalid request",
        &detail,
        request_id,
    );
    r.set_problem_field("errors", json!(errors));
    r
}

fn display_pointer(p: &str) -> &str {
    if p.is_empty() {
        "body"
    } else {
        p
    }
}

/// Maps a service error to its response. 5xx details are logged here and hidden from clients.
pub fn from_error(err: &AppError, request_id: &str) -> ApiResponse {
    use AppError::*;
    match err {
        BadRequest(d) => problem(400, "bad-request", "Bad request", d, request_id),
        Validation(errors) => validation(errors, request_id),
        Unauthenticated(d) => {
            let mut r = problem(
                401,
                "unauthenticated",
                "Authentication required",
                d,
                request_id,
            );
            r.header("www-authenticate", "Bearer");
            r
        }
        Forbidden(d) => problem(403, "forbidden", "Forbidden", d, request_id),
        AccessDenied {
            rationale,
            rule_id,
            decision_id,
            policy_sha256,
        } => {
            let mut r = problem(
                403,
                "access-denied",
                "Access denied",
                &format!("the policy denied this request: {rationale}"),
                request_id,
            );
            r.set_problem_field("decision", json!("deny"));
            r.set_problem_field("rationale", json!(rationale));
            r.set_problem_field("rule_id", json!(rule_id));
            r.set_problem_field("decision_id", json!(decision_id));
            r.set_problem_field("policy_sha256", json!(policy_sha256));
            r
        }
        ElevationRequired => problem(
            403,
            "elevation-required",
            "Elevated token required",
            "this operation needs an elevated token: POST /api/v1/auth/elevate with your \
             password, then send the elevated token",
            request_id,
        ),
        MfaEnrolmentRequired => problem(
            403,
            "mfa-enrolment-required",
            "Second factor required",
            "admins must use a second factor here: enrol a TOTP authenticator (POST \
             /api/v1/auth/mfa/totp, then POST /api/v1/auth/mfa/totp/confirm, which answers a \
             session with it) or log in again with your code",
            request_id,
        ),
        NotFound(d) => problem(404, "not-found", "Not found", d, request_id),
        Conflict(d) => problem(409, "conflict", "Conflict", d, request_id),
        AnswerNotKept { resource } => {
            let mut r = problem(
                409,
                "answer-not-kept",
                "Answer not kept",
                "this request was applied, but its answer held a secret, which is never stored, \
                 so a retry cannot hand it out again; resource is what was made, without the \
                 secret. If the first answer was lost, give up what it held (revoke the key, log \
                 in again, request access again) and make a new one with a new Idempotency-Key",
                request_id,
            );
            if let Some(resource) = resource {
                r.set_problem_field("resource", resource.clone());
            }
            r
        }
        PreconditionFailed(d) => problem(
            412,
            "precondition-failed",
            "Precondition failed",
            d,
            request_id,
        ),
        PayloadTooLarge(max) => problem(
            413,
            "payload-too-large",
            "Payload too large",
            &format!("the request body is larger than {max} bytes"),
            request_id,
        ),
        UnsupportedMediaType => problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "send the body as application/json",
            request_id,
        ),
        RateLimited { limit, reset_at } => {
            let now = chrono::Utc::now().timestamp();
            let retry_after = (reset_at - now).max(1);
            let mut r = problem(
                429,
                "rate-limited",
                "Too many requests",
                &format!("rate limit of {limit} exceeded; retry in {retry_after} s"),
                request_id,
            );
            r.header("retry-after", &retry_after.to_string());
            r.header("x-ratelimit-limit", &limit.to_string());
            r.header("x-ratelimit-remaining", "0");
            r.header("x-ratelimit-reset", &reset_at.to_string());
            r
        }
        ProbeFailed(outcome) => {
            let reason = outcome.error.as_deref().unwrap_or("the probe failed");
            let mut r = problem(
                422,
                "probe-failed",
                "Remote tool probe failed",
                &format!("the server did not pass the MCP probe: {reason}"),
                request_id,
            );
            r.set_problem_field("probe", json!(outcome));
            r
        }
        Unavailable(d) => {
            tracing::error!(request_id, error = %d, "dependency unavailable");
            let mut r = problem(
                503,
                "unavailable",
                "Service unavailable",
                "a backing service did not answer in time; retry shortly",
                request_id,
            );
            r.header("retry-after", "1");
            r
        }
        Internal(d) => {
            tracing::error!(request_id, error = %d, "internal error");
            problem(
                500,
                "internal",
                "Internal server error",
                "an unexpected error occurred; quote the request id when reporting it",
                request_id,
            )
        }
    }
}
