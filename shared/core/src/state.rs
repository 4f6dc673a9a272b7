//! What a function builds once per cold start and hands to every request.

use crate::auth::keys::KeyCache;
use crate::aws::Clients;
use crate::config::{Config, ConfigError};
use crate::probe::{ProbeSettings, Prober};
use crate::store::Store;

/// Shared, read-only state: configuration, AWS clients, the signing-key cache and the prober.
pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub kms: aws_sdk_kms::Client,
    pub keys: KeyCache,
    /// The API-key peppers (same secret shape and rotation as the JWT keys).
    pub peppers: KeyCache,
    pub prober: Prober,
    /// Signs tool credentials with KMS and publishes their keys.
    pub signer: crate::crypto::signer::CredentialSigner,
    /// The active policy, cached per warm function (see `services::policies`).
    pub policies: crate::services::policies::PolicyCache,
}

impl AppState {
    /// Reads the environment and builds the clients. Makes no network call: secrets load on
    /// first use, so routes that need none (health, docs) never pay for them.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let clients = Clients::from_env().await;
        Ok(Self::new(config, clients))
    }

    pub fn new(config: Config, clients: Clients) -> Self {
        let prober = Prober::new(ProbeSettings {
            timeout: config.probe_timeout,
            allow_private_networks: config.probe_allow_private_networks,
            max_body_bytes: 1024 * 1024,
        });
        Self {
            store: Store::new(clients.dynamodb, config.table_name.clone()),
            kms: clients.kms.clone(),
            peppers: KeyCache::new(
                clients.secrets.clone(),
                config.api_key_pepper_arn.clone(),
                config.jwt_key_ttl,
            ),
            keys: KeyCache::new(
                clients.secrets,
                config.jwt_secret_arn.clone(),
                config.jwt_key_ttl,
            ),
            prober,
            policies: Default::default(),
            signer: crate::crypto::signer::CredentialSigner::new(
                clients.kms.clone(),
                config.credential_kms_key_ids.clone(),
            ),
            config,
        }
    }
}
