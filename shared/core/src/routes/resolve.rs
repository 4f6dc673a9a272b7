//! From a method and path to a route: templates with `{param}` segments, literal segments
//! preferred over parameters, and the 404 / 405 answers when nothing matches.

use super::{Route, ROUTES};
use crate::http::{problem, ApiRequest, ApiResponse};
use std::collections::HashMap;

/// Why a path did not resolve to a route.
#[derive(Debug, PartialEq)]
pub enum MatchError {
    NotFound,
    MethodNotAllowed(Vec<&'static str>),
}

/// The path parameters of `path` when it matches `template`, each the raw (still encoded)
/// segment.
pub fn match_template(template: &str, path: &str) -> Option<HashMap<String, String>> {
    // The local server tries every row for every request: decide without allocating, and
    // build the parameters only for a match.
    if !segment_pairs(template, path).all(|pair| match pair {
        Some((ts, ps)) => param_name(ts).map_or(ts == ps, |_| !ps.is_empty()),
        None => false,
    }) {
        return None;
    }
    let params = segment_pairs(template, path)
        .flatten()
        .filter_map(|(ts, ps)| {
            // The raw segment, still percent-encoded, as API Gateway passes path parameters:
            // a handler that takes encoded values (a registry server name's `%2F`) decodes
            // them itself, the same way behind API Gateway and on the local server.
            param_name(ts).map(|name| (name.to_owned(), ps.to_owned()))
        })
        .collect();
    Some(params)
}

/// `{name}` → `name`.
fn param_name(segment: &str) -> Option<&str> {
    segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
}

/// The template's and the path's segments side by side; `None` where one is longer.
fn segment_pairs<'a>(
    template: &'a str,
    path: &'a str,
) -> impl Iterator<Item = Option<(&'a str, &'a str)>> + 'a {
    let mut t = template.trim_matches('/').split('/');
    let mut p = path.trim_matches('/').split('/');
    std::iter::from_fn(move || match (t.next(), p.next()) {
        (None, None) => None,
        (Some(ts), Some(ps)) => Some(Some((ts, ps))),
        _ => Some(None),
    })
}

/// Resolves `method path` the way API Gateway does: literal segments beat parameters.
pub fn resolve(
    method: &str,
    path: &str,
) -> Result<(&'static Route, HashMap<String, String>), MatchError> {
    let mut candidates: Vec<(&'static Route, HashMap<String, String>)> = ROUTES
        .iter()
        .filter_map(|r| match_template(r.path, path).map(|p| (*r, p)))
        .collect();
    if candidates.is_empty() {
        return Err(MatchError::NotFound);
    }
    // Prefer the most specific template (fewest parameters).
    candidates.sort_by_key(|(r, _)| r.path.matches('{').count());
    let best = candidates[0].0.path.matches('{').count();
    let same: Vec<_> = candidates
        .into_iter()
        .filter(|(r, _)| r.path.matches('{').count() == best)
        .collect();
    let allowed: Vec<&'static str> = same.iter().map(|(r, _)| r.method).collect();
    match same
        .into_iter()
        .find(|(r, _)| r.method == method || (method == "HEAD" && r.method == "GET"))
    {
        Some((r, p)) => Ok((r, p)),
        None => Err(MatchError::MethodNotAllowed(allowed)),
    }
}

/// The 404 problem for a path no route serves.
pub fn not_found(req: &ApiRequest) -> ApiResponse {
    problem::problem(
        404,
        "not-found",
        "Not found",
        &format!(
            "no route for {}",
            req.path.chars().take(200).collect::<String>()
        ),
        &req.request_id,
    )
    .with_header("x-request-id", &req.request_id)
}

/// The 405 problem for a method the path's routes lack.
pub fn method_not_allowed(req: &ApiRequest, allowed: &[&str]) -> ApiResponse {
    problem::problem(
        405,
        "method-not-allowed",
        "Method not allowed",
        &format!(
            "{} is not allowed here; allowed: {}",
            req.method,
            allowed.join(", ")
        ),
        &req.request_id,
    )
    .with_header("allow", &allowed.join(", "))
    .with_header("x-request-id", &req.request_id)
}
