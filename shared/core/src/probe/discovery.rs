//! What a 401/403 says about authenticating: the protected-resource metadata (RFC 9728), found
//! through the challenge's `resource_metadata` or, when it names none, at the well-known URIs
//! (path-specific first, then the root), checked against the probed URL, and the first
//! authorization server's metadata (RFC 8414, then OpenID Connect discovery); without any RFC 9728
//! document, the 2025-03-26 fallback: RFC 8414 metadata at the server's origin.
//!
//! Every document is fetched through the probe's guarded client (the resolver refuses internal
//! addresses, redirects are not followed, bodies are capped), literal addresses are checked
//! here, and no static header is ever sent to these URLs. Discovery is best effort: what it
//! could not learn is said in `discovery_error`, never a failed probe.

use super::exchange::{quoted, Ctx};
use super::{ssrf, AuthChallenge};
use crate::domain::probe::AuthServerMetadata;
use reqwest::header::ACCEPT;
use serde_json::Value;

/// The challenge of a 401/403 to a request for `probed`, with what discovery learned.
pub(super) async fn challenge(
    ctx: &Ctx<'_>,
    probed: &url::Url,
    www_authenticate: Option<String>,
) -> AuthChallenge {
    let named = www_authenticate
        .as_deref()
        .and_then(|h| super::challenge::param(h, "resource_metadata"));
    let mut ch = AuthChallenge {
        www_authenticate,
        resource_metadata_url: named.clone(),
        ..Default::default()
    };
    ctx.progress
        .set("while fetching the protected-resource metadata");
    let candidates: Vec<(url::Url, &str)> = match named {
        Some(m) => match url::Url::parse(&m) {
            Ok(u) => vec![(u, "challenge")],
            Err(_) => {
                ch.discovery_error = Some(format!(
                    "the challenge's resource_metadata {} is not a URL",
                    quoted(&m)
                ));
                return ch;
            }
        },
        None => well_known(probed, "oauth-protected-resource")
            .into_iter()
            .zip(["well_known_path", "well_known_root"])
            .collect(),
    };
    let mut found = None;
    let mut errors = Vec::new();
    for (u, source) in candidates {
        match get_json(ctx, &u, "the protected-resource metadata").await {
            Ok(doc) => {
                found = Some((u, source, doc));
                break;
            }
            Err(e) => errors.push(e),
        }
    }
    let Some((u, source, doc)) = found else {
        // No RFC 9728 document: a server of the 2025-03-26 revision, whose authorization
        // server is its own origin (metadata at `{origin}/.well-known/oauth-authorization-server`).
        ctx.progress
            .set("while fetching the authorization server metadata (2025-03-26 fallback)");
        let origin = probed.origin().ascii_serialization();
        match legacy_authorization_server(ctx, probed, &origin).await {
            Ok(m) => {
                ch.authorization_servers = vec![origin];
                ch.authorization_server = Some(m);
            }
            Err(e) => {
                errors.push(e);
                ch.discovery_error = Some(errors.join("; "));
            }
        }
        return ch;
    };
    ch.resource_metadata_url = Some(u.to_string());
    ch.resource_metadata_source = Some(source.to_owned());
    ch.resource = doc
        .get("resource")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let matches = ch
        .resource
        .as_deref()
        .is_some_and(|r| resource_matches(r, probed));
    ch.resource_matches = Some(matches);
    if !matches {
        ch.discovery_error = Some(match &ch.resource {
            Some(r) => format!(
                "the metadata's resource {} does not name the probed URL; the document is not used",
                quoted(r)
            ),
            None => "the metadata has no resource; the document is not used".into(),
        });
        return ch;
    }
    ch.authorization_servers = doc
        .get("authorization_servers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let Some(issuer) = ch.authorization_servers.first().cloned() else {
        ch.discovery_error = Some("the metadata names no authorization server".into());
        return ch;
    };
    ctx.progress
        .set("while fetching the authorization server metadata");
    match authorization_server(ctx, &issuer).await {
        Ok(m) => ch.authorization_server = Some(m),
        Err(e) => ch.discovery_error = Some(e),
    }
    ch
}

/// The metadata of the authorization server `issuer`: RFC 8414 first, then OpenID Connect
/// discovery; its `issuer` must be `issuer` (RFC 8414 §3.3).
async fn authorization_server(ctx: &Ctx<'_>, issuer: &str) -> Result<AuthServerMetadata, String> {
    let base = url::Url::parse(issuer)
        .map_err(|_| format!("the authorization server {} is not a URL", quoted(issuer)))?;
    let mut errors = Vec::new();
    for u in authorization_server_metadata_urls(&base) {
        let doc = match get_json(ctx, &u, "the authorization server metadata").await {
            Ok(d) => d,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        return server_metadata(&u, &doc, issuer);
    }
    Err(errors.join("; "))
}

/// The 2025-03-26 revision's discovery: the authorization server is the MCP server's origin, its
/// RFC 8414 metadata at the origin's well-known URI (the probed path discarded), naming the
/// origin as its issuer.
async fn legacy_authorization_server(
    ctx: &Ctx<'_>,
    probed: &url::Url,
    origin: &str,
) -> Result<AuthServerMetadata, String> {
    let mut u = probed.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.set_path("/.well-known/oauth-authorization-server");
    let doc = get_json(ctx, &u, "the authorization server metadata").await?;
    server_metadata(&u, &doc, origin)
}

/// What an authorization server's metadata document `doc`, read at `u`, says; its `issuer`
/// must be `issuer` (RFC 8414 §3.3).
fn server_metadata(u: &url::Url, doc: &Value, issuer: &str) -> Result<AuthServerMetadata, String> {
    let stated = doc.get("issuer").and_then(Value::as_str).unwrap_or("");
    if stated.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(format!(
            "the authorization server metadata at {} names issuer {}, not {}",
            quoted(u.as_str()),
            quoted(stated),
            quoted(issuer)
        ));
    }
    let lists = |key: &str, want: &str| {
        doc.get(key)
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|m| m.as_str() == Some(want)))
    };
    Ok(AuthServerMetadata {
        issuer: stated.to_owned(),
        metadata_url: u.to_string(),
        pkce_s256: lists("code_challenge_methods_supported", "S256"),
        client_id_metadata_documents: doc
            .get("client_id_metadata_document_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        dynamic_registration: doc
            .get("registration_endpoint")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty()),
    })
}

/// RFC 9728 §3.1 (and RFC 8414 §3.1): the well-known URI inserted between the host and the
/// path, then, when there is a path, the root one. Query and fragment are dropped.
pub(super) fn well_known(u: &url::Url, name: &str) -> Vec<url::Url> {
    let path = u.path().trim_end_matches('/');
    let mut out = Vec::new();
    let mut with = |p: String| {
        let mut w = u.clone();
        w.set_query(None);
        w.set_fragment(None);
        w.set_path(&p);
        out.push(w);
    };
    if !path.is_empty() {
        with(format!("/.well-known/{name}{path}"));
    }
    with(format!("/.well-known/{name}"));
    out
}

/// Where an authorization server's metadata may be: RFC 8414's well-known URI (path
/// inserted), then OpenID Connect's, inserted and appended (OpenID Connect Discovery 1.0 §4).
pub(super) fn authorization_server_metadata_urls(issuer: &url::Url) -> Vec<url::Url> {
    let path = issuer.path().trim_end_matches('/');
    let mut out = vec![well_known(issuer, "oauth-authorization-server")[0].clone()];
    out.push(well_known(issuer, "openid-configuration")[0].clone());
    if !path.is_empty() {
        let mut appended = issuer.clone();
        appended.set_query(None);
        appended.set_fragment(None);
        appended.set_path(&format!("{path}/.well-known/openid-configuration"));
        out.push(appended);
    }
    out
}

/// Whether the metadata's `resource` names `probed`: the same origin, and the same path or a
/// path above it (a resource identifier may name the whole server).
pub(super) fn resource_matches(resource: &str, probed: &url::Url) -> bool {
    let Ok(r) = url::Url::parse(resource) else {
        return false;
    };
    if r.fragment().is_some() || r.origin() != probed.origin() {
        return false;
    }
    let rp = r.path().trim_end_matches('/');
    let pp = probed.path().trim_end_matches('/');
    rp.is_empty() || rp == pp || pp.starts_with(&format!("{rp}/"))
}

/// A JSON object from `u`, or why not. The scheme and any literal address are checked here;
/// names are checked by the client's resolver.
async fn get_json(ctx: &Ctx<'_>, u: &url::Url, what: &str) -> Result<Value, String> {
    let allow_private = ctx.settings.allow_private_networks;
    match u.scheme() {
        "https" => {}
        "http" if allow_private => {}
        other => {
            return Err(format!(
                "{what} URL {} must use https, not {other}",
                quoted(u.as_str())
            ))
        }
    }
    if !allow_private {
        if let Some(why) = ssrf::literal_reason(u) {
            return Err(format!(
                "{what} URL {}: {why}; fetching it is not allowed",
                quoted(u.as_str())
            ));
        }
    }
    let r = ctx
        .client
        .get(u.clone())
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("{what}: {}", super::client::describe(&e, u.as_str())))?;
    if r.status().as_u16() != 200 {
        return Err(format!(
            "{what} at {}: HTTP {}",
            quoted(u.as_str()),
            r.status().as_u16()
        ));
    }
    let bytes = ctx.body(r, what).await.map_err(|e| e.to_string())?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(format!(
            "{what} at {} is not a JSON object",
            quoted(u.as_str())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn well_known_uris_put_the_path_after_the_well_known_segment_then_try_the_root() {
        let got: Vec<String> = well_known(
            &u("https://api.example.com/v1/mcp?x=1"),
            "oauth-protected-resource",
        )
        .iter()
        .map(|u| u.to_string())
        .collect();
        assert_eq!(
            got,
            [
                "https://api.example.com/.well-known/oauth-protected-resource/v1/mcp",
                "https://api.example.com/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            well_known(&u("https://api.example.com/"), "oauth-protected-resource").len(),
            1
        );
        let as_urls: Vec<String> =
            authorization_server_metadata_urls(&u("https://auth.example.com/tenant1"))
                .iter()
                .map(|u| u.to_string())
                .collect();
        assert_eq!(
            as_urls,
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            authorization_server_metadata_urls(&u("https://auth.example.com")).len(),
            2
        );
    }

    #[test]
    fn a_resource_matches_its_url_or_a_path_above_it_on_the_same_origin() {
        let probed = u("https://api.example.com/v1/mcp");
        assert!(resource_matches("https://api.example.com/v1/mcp", &probed));
        assert!(resource_matches("https://api.example.com/v1/mcp/", &probed));
        assert!(resource_matches("https://api.example.com", &probed));
        assert!(resource_matches("https://api.example.com/v1", &probed));
        assert!(!resource_matches("https://api.example.com/v1/m", &probed));
        assert!(!resource_matches("https://api.example.com/other", &probed));
        assert!(!resource_matches(
            "https://evil.example.com/v1/mcp",
            &probed
        ));
        assert!(!resource_matches("http://api.example.com/v1/mcp", &probed));
        assert!(!resource_matches("not a url", &probed));
    }
}
