//! What a function builds once per cold start and hands to every request.
//!
//! A Lambda binary builds only the parts its route's row (`Iam`) says it touches
//! ([`AppState::for_route`]), so a binary links only the AWS clients its route uses: `health`
//! builds none, a read route no KMS client. The local server, the CLI and the tests build every
//! part ([`AppState::new`]).

use crate::auth::keys::KeyCache;
use crate::aws::Clients;
use crate::config::{Config, ConfigError};
use crate::probe::{ProbeSettings, Prober};
use crate::routes::table::RowOf;
use crate::store::Store;
use aws_config::SdkConfig;
use std::sync::OnceLock;

/// A part of the state that a function may be built without. It dereferences to the part; a
/// function that reaches for a part its row does not grant is a bug in the route table (its
/// IAM role would refuse the call too), and stops with a message naming the part.
pub struct Part<T> {
    value: Option<T>,
    name: &'static str,
}

impl<T> Part<T> {
    #[inline]
    fn built(name: &'static str, value: T) -> Self {
        Self {
            value: Some(value),
            name,
        }
    }

    #[inline]
    fn absent(name: &'static str) -> Self {
        Self { value: None, name }
    }

    /// Whether this function was built with the part.
    pub fn is_built(&self) -> bool {
        self.value.is_some()
    }
}

impl<T> std::ops::Deref for Part<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.value {
            Some(v) => v,
            None => missing(self.name),
        }
    }
}

#[cold]
#[inline(never)]
fn missing(name: &str) -> ! {
    panic!(
        "this function was built without {name}: its route's row (routes::ALL) does not grant it"
    )
}

/// Shared, read-only state: configuration, AWS clients, the signing-key cache and the prober.
pub struct AppState {
    pub config: Config,
    pub store: Part<Store>,
    pub kms: Part<aws_sdk_kms::Client>,
    pub keys: Part<KeyCache>,
    /// The API-key peppers (same secret shape and rotation as the JWT keys).
    pub peppers: Part<KeyCache>,
    /// Built on first use by [`AppState::prober`]: only the probing routes and the re-prober
    /// link the HTTP client.
    prober: OnceLock<Prober>,
    /// Signs tool credentials with KMS and publishes their keys.
    pub signer: Part<crate::crypto::signer::CredentialSigner>,
    /// The active policy, cached per warm function (see `services::policies`).
    pub policies: crate::store::policy_cache::PolicyCache,
}

impl AppState {
    /// Reads the environment and builds every client. Makes no network call: secrets load on
    /// first use.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let clients = Clients::from_env().await;
        Ok(Self::new(config, clients))
    }

    /// Every part: the local server (which serves every route), the CLI and the tests.
    pub fn new(config: Config, clients: Clients) -> Self {
        Self {
            store: Part::built(
                "DynamoDB",
                Store::new(clients.dynamodb, config.table_name.clone()),
            ),
            kms: Part::built("KMS", clients.kms.clone()),
            peppers: Part::built(
                "the API-key pepper",
                pepper_cache(&config, &clients.secrets),
            ),
            keys: Part::built("the JWT key", jwt_cache(&config, &clients.secrets)),
            prober: OnceLock::new(),
            policies: Default::default(),
            signer: Part::built("the credential signer", signer(&config, &clients.kms)),
            config,
        }
    }

    /// Only the parts `row`'s `Iam` grants, from `sdk` (`None` when it grants nothing).
    ///
    /// In a Lambda binary the row is a constant (see `routes::RowOf`): the parts it does not
    /// grant fold away, and with them every AWS client the function never uses.
    pub fn for_route<R: RowOf>(config: Config, row: R, sdk: Option<&SdkConfig>) -> Self {
        let iam = row.route().permissions();
        let (dynamodb, kms, signing) = (
            !iam.dynamodb.is_empty(),
            !iam.kms.is_empty(),
            !iam.signing.is_empty(),
        );
        let sdk = sdk.filter(|_| iam.uses_aws());
        let kms_client = sdk.filter(|_| kms || signing).map(crate::aws::kms);
        let secrets = sdk
            .filter(|_| iam.secret || iam.pepper)
            .map(crate::aws::secrets);
        Self {
            store: match sdk.filter(|_| dynamodb) {
                Some(sdk) => Part::built(
                    "DynamoDB",
                    Store::new(crate::aws::dynamodb(sdk), config.table_name.clone()),
                ),
                None => Part::absent("DynamoDB"),
            },
            keys: match secrets.as_ref().filter(|_| iam.secret) {
                Some(s) => Part::built("the JWT key", jwt_cache(&config, s)),
                None => Part::absent("the JWT key"),
            },
            peppers: match secrets.as_ref().filter(|_| iam.pepper) {
                Some(s) => Part::built("the API-key pepper", pepper_cache(&config, s)),
                None => Part::absent("the API-key pepper"),
            },
            signer: match kms_client.as_ref().filter(|_| signing) {
                Some(k) => Part::built("the credential signer", signer(&config, k)),
                None => Part::absent("the credential signer"),
            },
            kms: match kms_client.filter(|_| kms) {
                Some(k) => Part::built("KMS", k),
                None => Part::absent("KMS"),
            },
            prober: OnceLock::new(),
            policies: Default::default(),
            config,
        }
    }

    /// The prober of remote tools, built on first use.
    pub fn prober(&self) -> &Prober {
        self.prober.get_or_init(|| {
            Prober::new(ProbeSettings {
                timeout: self.config.probe_timeout,
                allow_private_networks: self.config.probe_allow_private_networks,
                max_body_bytes: 1024 * 1024,
            })
        })
    }
}

fn jwt_cache(config: &Config, secrets: &aws_sdk_secretsmanager::Client) -> KeyCache {
    KeyCache::new(
        secrets.clone(),
        config.jwt_secret_arn.clone(),
        config.jwt_key_ttl,
    )
}

fn pepper_cache(config: &Config, secrets: &aws_sdk_secretsmanager::Client) -> KeyCache {
    KeyCache::new(
        secrets.clone(),
        config.api_key_pepper_arn.clone(),
        config.jwt_key_ttl,
    )
}

fn signer(config: &Config, kms: &aws_sdk_kms::Client) -> crate::crypto::signer::CredentialSigner {
    crate::crypto::signer::CredentialSigner::new(kms.clone(), config.credential_kms_key_ids.clone())
}
