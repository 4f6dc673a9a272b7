//! Configuration read once from the environment at cold start.
//!
//! Names follow the baseline specification where it has them. A bad value stops start-up with a
//! message that names the variable, so a misconfigured deployment fails loudly on its first
//! invocation instead of behaving oddly later.

use std::time::Duration;

/// A fixed-window rate limit such as `5/minute` or `20/15 minutes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: u32,
    /// Window length in seconds.
    pub window_secs: u64,
}

/// Why a rate limit does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RateLimitError {
    #[error("expected the form `5/minute` or `20/15 minutes`, got {0:?}")]
    Form(String),
    #[error("{0:?} is not a whole number of requests")]
    Count(String),
    #[error("the limit must be at least 1")]
    ZeroLimit,
    #[error("{0:?} is not a whole number")]
    Multiple(String),
    #[error("unknown time unit {0:?}")]
    Unit(String),
    #[error("the window must be at least one unit long")]
    ZeroWindow,
}

impl RateLimit {
    /// Parses `N/unit` or `N/M units` (second, minute, hour, day; singular or plural).
    pub fn parse(s: &str) -> Result<Self, RateLimitError> {
        let (count, window) = s
            .split_once('/')
            .ok_or_else(|| RateLimitError::Form(s.to_owned()))?;
        let limit: u32 = count
            .trim()
            .parse()
            .map_err(|_| RateLimitError::Count(count.to_owned()))?;
        if limit == 0 {
            return Err(RateLimitError::ZeroLimit);
        }
        let window = window.trim();
        let (mult, unit) = match window.split_once(' ') {
            Some((n, unit)) => (
                n.trim()
                    .parse::<u64>()
                    .map_err(|_| RateLimitError::Multiple(n.to_owned()))?,
                unit.trim(),
            ),
            None => (1, window),
        };
        let unit_secs = match unit.trim_end_matches('s') {
            "second" | "sec" => 1,
            "minute" | "min" => 60,
            "hour" => 3600,
            "day" => 86_400,
            other => return Err(RateLimitError::Unit(other.to_owned())),
        };
        if mult == 0 {
            return Err(RateLimitError::ZeroWindow);
        }
        Ok(Self {
            limit,
            window_secs: mult * unit_secs,
        })
    }
}

/// Every setting the service reads from its environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub table_name: String,
    pub jwt_secret_arn: String,
    /// The pepper agents' API keys are HMACed with (`API_KEY_PEPPER_SECRET_ARN`).
    pub api_key_pepper_arn: String,
    pub kms_key_id: String,
    /// The asymmetric KMS keys of tool credentials (`CREDENTIAL_KMS_KEY_IDS`, comma-separated):
    /// the first signs, all are published in the JWKS.
    pub credential_kms_key_ids: Vec<String>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub elevated_token_ttl: Duration,
    /// How often a warm function re-reads which policy version is active
    /// (`POLICY_CACHE_TTL_SECONDS`).
    pub policy_cache_ttl: Duration,
    /// How long the signing keys are cached before a reload (`JWT_KEY_TTL_SECONDS`).
    pub jwt_key_ttl: Duration,
    pub login_rate_limit_ip: RateLimit,
    pub login_rate_limit_username: RateLimit,
    /// `/oauth/token` requests per client id and per source IP.
    pub oauth_rate_limit_client: RateLimit,
    pub oauth_rate_limit_ip: RateLimit,
    /// Access requests (`POST /tools/{id}/access`, MCP `request_access`) per principal, counted
    /// before anything is decided or written (`ACCESS_RATE_LIMIT_PRINCIPAL`).
    pub access_rate_limit_principal: RateLimit,
    /// The service's public base URL (`PUBLIC_BASE_URL`, e.g. `https://tools.example.com`, no
    /// trailing slash): every absolute URL toolreg hands out (the OAuth metadata documents,
    /// `/mcp`'s `WWW-Authenticate`) is built from it, never from a request's `Host`, which a
    /// client chooses and those publicly cached documents would repeat to everyone. Required
    /// in Lambda; elsewhere `http://127.0.0.1:<PORT>` (the local server puts in the address it
    /// actually listens on).
    pub public_base_url: String,
    /// `ALLOWED_ORIGINS`: the browser origins (`scheme://host[:port]`, normalised) that may call
    /// `/mcp`; `None` means the public base URL's origin alone. A request without `Origin`
    /// (not a browser) is not affected.
    pub allowed_origins: Option<Vec<String>>,
    pub probe_rate_limit_user: RateLimit,
    pub probe_rate_limit_ip: RateLimit,
    pub probe_timeout: Duration,
    pub probe_stale_after: Duration,
    pub probe_history_ttl: Duration,
    /// Lifts the SSRF address check and allows `http://` server URLs. Local development only.
    pub probe_allow_private_networks: bool,
    pub reprobe_concurrency: usize,
    /// Adds an `X-Toolreg-Aws-Calls` header to every response (local stack and tests only), so
    /// tests can hold each route to its round-trip budget.
    pub expose_call_counts: bool,
    /// `REQUIRE_ADMIN_MFA`: an admin whose session has no second factor may only enrol one.
    pub require_admin_mfa: bool,
    /// The reverse-DNS namespace the MCP Registry API names servers under
    /// (`REGISTRY_NAMESPACE`, default `io.toolreg.local`): a tool `github` is served as
    /// `io.toolreg.local/github`.
    pub registry_namespace: String,
}

/// A named configuration error: which variable and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

/// Reads variables through a lookup function so tests need not touch the process environment.
struct Reader<F: Fn(&str) -> Option<String>>(F);

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    fn string(&self, name: &'static str, default: &str) -> Result<String, ConfigError> {
        let value = self.0(name).unwrap_or_else(|| default.to_owned());
        if value.trim().is_empty() {
            return Err(ConfigError {
                variable: name,
                problem: "must not be empty".into(),
            });
        }
        Ok(value)
    }

    fn parsed<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: T,
        ok: impl Fn(&T) -> bool,
        expect: &str,
    ) -> Result<T, ConfigError> {
        match self.0(name) {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<T>() {
                Ok(v) if ok(&v) => Ok(v),
                _ => Err(ConfigError {
                    variable: name,
                    problem: format!("expected {expect}, got {raw:?}"),
                }),
            },
        }
    }

    fn rate(&self, name: &'static str, default: &str) -> Result<RateLimit, ConfigError> {
        let raw = self.0(name).unwrap_or_else(|| default.to_owned());
        RateLimit::parse(&raw).map_err(|e| ConfigError {
            variable: name,
            problem: e.to_string(),
        })
    }

    fn flag(&self, name: &'static str) -> Result<bool, ConfigError> {
        match self.0(name).as_deref().map(str::trim) {
            None | Some("") | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(ConfigError {
                variable: name,
                problem: format!("expected true or false, got {other:?}"),
            }),
        }
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let r = Reader(lookup);
        let positive = |v: &u64| *v > 0;
        let public_base_url = public_base_url(&r)?;
        let minutes = |name, default| {
            r.parsed::<u64>(
                name,
                default,
                positive,
                "a positive whole number of minutes",
            )
            .map(|m| Duration::from_secs(m * 60))
        };
        Ok(Self {
            table_name: r.string("TABLE_NAME", "toolreg")?,
            jwt_secret_arn: r.string("JWT_SECRET_ARN", "toolreg/jwt-signing-key")?,
            api_key_pepper_arn: r.string("API_KEY_PEPPER_SECRET_ARN", "toolreg/api-key-pepper")?,
            kms_key_id: r.string("KMS_KEY_ID", "alias/toolreg")?,
            credential_kms_key_ids: r
                .string("CREDENTIAL_KMS_KEY_IDS", "alias/toolreg-credentials")?
                .split(',')
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .collect(),
            // RFC 8414 §2/§3.3: the authorization server's issuer is its URL, the one its
            // metadata is served under; tokens name the same issuer (`iss`), so the default
            // is the public base URL (see `public_base_url` below).
            jwt_issuer: r.string("JWT_ISSUER", &public_base_url)?,
            jwt_audience: r.string("JWT_AUDIENCE", "toolreg-api")?,
            access_token_ttl: minutes("ACCESS_TOKEN_TTL_MINUTES", 15)?,
            refresh_token_ttl: r
                .parsed::<u64>(
                    "REFRESH_TOKEN_TTL_DAYS",
                    14,
                    positive,
                    "a positive whole number of days",
                )
                .map(|d| Duration::from_secs(d * 86_400))?,
            elevated_token_ttl: minutes("ELEVATED_TOKEN_TTL_MINUTES", 5)?,
            policy_cache_ttl: r
                .parsed::<u64>(
                    "POLICY_CACHE_TTL_SECONDS",
                    30,
                    |v| *v <= 3600,
                    "0 to 3600 seconds",
                )
                .map(Duration::from_secs)?,
            jwt_key_ttl: r
                .parsed::<u64>(
                    "JWT_KEY_TTL_SECONDS",
                    300,
                    |v| (1..=86_400).contains(v),
                    "a whole number of seconds from 1 to 86400",
                )
                .map(Duration::from_secs)?,
            login_rate_limit_ip: r.rate("LOGIN_RATE_LIMIT_IP", "5/minute")?,
            oauth_rate_limit_client: r.rate("OAUTH_RATE_LIMIT_CLIENT", "60/minute")?,
            oauth_rate_limit_ip: r.rate("OAUTH_RATE_LIMIT_IP", "120/minute")?,
            access_rate_limit_principal: r.rate("ACCESS_RATE_LIMIT_PRINCIPAL", "120/minute")?,
            public_base_url: public_base_url.clone(),
            // Unset or empty (a deployment template's blank parameter): the default.
            allowed_origins: match r.0("ALLOWED_ORIGINS").filter(|l| !l.trim().is_empty()) {
                None => None,
                Some(list) => Some(
                    list.split(',')
                        .map(str::trim)
                        .filter(|o| !o.is_empty())
                        .map(|o| {
                            configured_origin(o).ok_or_else(|| ConfigError {
                                variable: "ALLOWED_ORIGINS",
                                problem: format!(
                                    "expected comma-separated origins such as \
                                         https://console.example.com (scheme, host and port \
                                         only), got {o:?}"
                                ),
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ),
            },
            login_rate_limit_username: r.rate("LOGIN_RATE_LIMIT_USERNAME", "20/15 minutes")?,
            probe_rate_limit_user: r.rate("PROBE_RATE_LIMIT_USER", "10/minute")?,
            probe_rate_limit_ip: r.rate("PROBE_RATE_LIMIT_IP", "30/minute")?,
            probe_timeout: r
                .parsed::<f64>(
                    "PROBE_TIMEOUT_SECONDS",
                    5.0,
                    |v| *v > 0.0 && *v <= 120.0,
                    "a number of seconds between 0 and 120",
                )
                .map(Duration::from_secs_f64)?,
            probe_stale_after: r
                .parsed::<u64>(
                    "PROBE_STALE_AFTER_HOURS",
                    24,
                    positive,
                    "a positive whole number of hours",
                )
                .map(|h| Duration::from_secs(h * 3600))?,
            probe_history_ttl: r
                .parsed::<u64>(
                    "PROBE_HISTORY_TTL_DAYS",
                    30,
                    positive,
                    "a positive whole number of days",
                )
                .map(|d| Duration::from_secs(d * 86_400))?,
            probe_allow_private_networks: r.flag("PROBE_ALLOW_PRIVATE_NETWORKS")?,
            reprobe_concurrency: r.parsed::<usize>(
                "REPROBE_CONCURRENCY",
                // A probe mostly waits on the network (two exchanges, then one transaction):
                // 64 in flight keep one invocation above 200 probes/s at 50 ms per exchange.
                64,
                |v| (1..=256).contains(v),
                "a whole number from 1 to 256",
            )?,
            expose_call_counts: r.flag("TOOLREG_EXPOSE_CALL_COUNTS")?,
            require_admin_mfa: r.flag("REQUIRE_ADMIN_MFA")?,
            registry_namespace: {
                let ns = r.string("REGISTRY_NAMESPACE", "io.toolreg.local")?;
                let ns = ns.trim().to_owned();
                if ns.len() > 100
                    || !ns
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                {
                    return Err(ConfigError {
                        variable: "REGISTRY_NAMESPACE",
                        problem: format!(
                            "expected a reverse-DNS name of letters, digits, . and - (at most 100), got {ns:?}"
                        ),
                    });
                }
                ns
            },
        })
    }
}

/// `PUBLIC_BASE_URL`, checked; required in Lambda (the runtime always sets
/// `AWS_LAMBDA_FUNCTION_NAME`), else the local server's default address.
fn public_base_url<F: Fn(&str) -> Option<String>>(r: &Reader<F>) -> Result<String, ConfigError> {
    let raw = r.0("PUBLIC_BASE_URL")
        .map(|v| v.trim().trim_end_matches('/').to_owned())
        .filter(|v| !v.is_empty());
    let Some(v) = raw else {
        if r.0("AWS_LAMBDA_FUNCTION_NAME").is_some() {
            return Err(ConfigError {
                variable: "PUBLIC_BASE_URL",
                problem: "required when running in AWS Lambda: the service's public https URL \
                          (e.g. https://tools.example.com), which the OAuth metadata, /mcp's \
                          challenges and the tokens' issuer are built from (never from a \
                          request's Host header)"
                    .into(),
            });
        }
        let port = r.parsed::<u16>("PORT", 8000, |_| true, "a port number")?;
        return Ok(format!("http://127.0.0.1:{port}"));
    };
    match url::Url::parse(&v) {
        Ok(u)
            if matches!(u.scheme(), "https" | "http")
                && u.host_str().is_some()
                && u.query().is_none()
                && u.fragment().is_none()
                && u.username().is_empty() =>
        {
            Ok(v)
        }
        _ => Err(ConfigError {
            variable: "PUBLIC_BASE_URL",
            problem: format!("expected an http(s) URL without query or fragment, got {v:?}"),
        }),
    }
}

/// An `ALLOWED_ORIGINS` entry: an http(s) origin, nothing after the host and port.
fn configured_origin(o: &str) -> Option<String> {
    let u = url::Url::parse(o).ok()?;
    let bare =
        u.path() == "/" && u.query().is_none() && u.fragment().is_none() && u.username().is_empty();
    bare.then(|| origin_of(o)).flatten()
}

/// The ASCII serialisation of `url`'s origin (`scheme://host[:port]`, lower-case, default port
/// left out), as browsers send it in `Origin`; `None` for an opaque origin or no URL at all.
pub fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url.trim()).ok()?;
    if !matches!(u.scheme(), "https" | "http") {
        return None;
    }
    let origin = u.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

impl Config {
    /// Whether a browser page from `origin` (an `Origin` header) may call `/mcp`:
    /// `ALLOWED_ORIGINS`, else the public base URL's origin alone.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let Some(origin) = origin_of(origin) else {
            // `null` (a sandboxed or file page) and anything unparseable.
            return false;
        };
        match &self.allowed_origins {
            Some(list) => list.contains(&origin),
            None => origin_of(&self.public_base_url).as_deref() == Some(origin.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn rate_limits_parse_the_baseline_forms() {
        assert_eq!(
            RateLimit::parse("5/minute").unwrap(),
            RateLimit {
                limit: 5,
                window_secs: 60
            }
        );
        assert_eq!(
            RateLimit::parse("20/15 minutes").unwrap(),
            RateLimit {
                limit: 20,
                window_secs: 900
            }
        );
        assert_eq!(RateLimit::parse("100/hour").unwrap().window_secs, 3600);
        for bad in [
            "",
            "5",
            "x/minute",
            "0/minute",
            "5/fortnight",
            "5/0 minutes",
        ] {
            assert!(RateLimit::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn defaults_follow_the_baseline() {
        let c = with(&[]).unwrap();
        assert_eq!(c.access_token_ttl, Duration::from_secs(15 * 60));
        assert_eq!(c.refresh_token_ttl, Duration::from_secs(14 * 86_400));
        assert_eq!(c.elevated_token_ttl, Duration::from_secs(5 * 60));
        assert_eq!(
            c.login_rate_limit_ip,
            RateLimit {
                limit: 5,
                window_secs: 60
            }
        );
        assert_eq!(
            c.probe_rate_limit_ip,
            RateLimit {
                limit: 30,
                window_secs: 60
            }
        );
        assert_eq!(
            c.access_rate_limit_principal,
            RateLimit {
                limit: 120,
                window_secs: 60
            }
        );
        assert!(!c.probe_allow_private_networks);
        assert!(!c.require_admin_mfa);
        assert_eq!(c.registry_namespace, "io.toolreg.local");
    }

    #[test]
    fn the_public_base_url_is_required_in_lambda_and_names_the_issuer() {
        let err = with(&[("AWS_LAMBDA_FUNCTION_NAME", "toolreg-health")]).unwrap_err();
        assert_eq!(err.variable, "PUBLIC_BASE_URL");
        assert!(err.to_string().contains("required"), "{err}");
        let c = with(&[
            ("AWS_LAMBDA_FUNCTION_NAME", "toolreg-health"),
            ("PUBLIC_BASE_URL", "https://tools.example.com/"),
        ])
        .unwrap();
        assert_eq!(c.public_base_url, "https://tools.example.com");
        // RFC 8414: the metadata's issuer is the server's URL, and tokens carry the same `iss`.
        assert_eq!(c.jwt_issuer, "https://tools.example.com");
        let c = with(&[
            ("PUBLIC_BASE_URL", "https://tools.example.com"),
            ("JWT_ISSUER", "toolreg"),
        ])
        .unwrap();
        assert_eq!(c.jwt_issuer, "toolreg");
        // Off Lambda: the local server's address.
        let c = with(&[]).unwrap();
        assert_eq!(c.public_base_url, "http://127.0.0.1:8000");
        assert_eq!(c.jwt_issuer, "http://127.0.0.1:8000");
        assert_eq!(
            with(&[("PORT", "9001")]).unwrap().public_base_url,
            "http://127.0.0.1:9001"
        );
        for bad in [
            "tools.example.com",
            "ftp://tools.example.com",
            "https://tools.example.com/?x=1",
            "https://user@tools.example.com",
        ] {
            let err = with(&[("PUBLIC_BASE_URL", bad)]).unwrap_err();
            assert_eq!(err.variable, "PUBLIC_BASE_URL", "{bad}");
        }
    }

    #[test]
    fn origins_default_to_the_public_base_url_and_are_compared_normalised() {
        let c = with(&[("PUBLIC_BASE_URL", "https://Tools.Example.com:443/api")]).unwrap();
        assert!(c.origin_allowed("https://tools.example.com"));
        assert!(c.origin_allowed("https://tools.example.com:443"));
        assert!(!c.origin_allowed("http://tools.example.com"));
        assert!(!c.origin_allowed("https://tools.example.com.evil.example"));
        assert!(!c.origin_allowed("https://evil.example.com"));
        assert!(!c.origin_allowed("null"));
        assert!(!c.origin_allowed(""));
        let c = with(&[
            ("PUBLIC_BASE_URL", "https://tools.example.com"),
            (
                "ALLOWED_ORIGINS",
                "https://console.example.com, http://localhost:6274/",
            ),
        ])
        .unwrap();
        assert!(c.origin_allowed("https://console.example.com"));
        assert!(c.origin_allowed("http://localhost:6274"));
        // A list replaces the default.
        assert!(!c.origin_allowed("https://tools.example.com"));
        // Blank is the default (a template's empty parameter).
        let c = with(&[
            ("PUBLIC_BASE_URL", "https://tools.example.com"),
            ("ALLOWED_ORIGINS", " "),
        ])
        .unwrap();
        assert!(c.origin_allowed("https://tools.example.com"));
        for bad in [
            "console.example.com",
            "https://console.example.com/path",
            "*",
            "null",
        ] {
            let err = with(&[("ALLOWED_ORIGINS", bad)]).unwrap_err();
            assert_eq!(err.variable, "ALLOWED_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let err = with(&[("ACCESS_TOKEN_TTL_MINUTES", "soon")]).unwrap_err();
        assert_eq!(err.variable, "ACCESS_TOKEN_TTL_MINUTES");
        let err = with(&[("LOGIN_RATE_LIMIT_IP", "5 per minute")]).unwrap_err();
        assert_eq!(err.variable, "LOGIN_RATE_LIMIT_IP");
        let err = with(&[("ACCESS_RATE_LIMIT_PRINCIPAL", "lots")]).unwrap_err();
        assert_eq!(err.variable, "ACCESS_RATE_LIMIT_PRINCIPAL");
        let err = with(&[("PROBE_ALLOW_PRIVATE_NETWORKS", "yes please")]).unwrap_err();
        assert!(err.to_string().contains("PROBE_ALLOW_PRIVATE_NETWORKS"));
        let err = with(&[("REGISTRY_NAMESPACE", "com.example/tools")]).unwrap_err();
        assert_eq!(err.variable, "REGISTRY_NAMESPACE");
        assert_eq!(
            with(&[("REGISTRY_NAMESPACE", "com.example.tools")])
                .unwrap()
                .registry_namespace,
            "com.example.tools"
        );
    }
}
