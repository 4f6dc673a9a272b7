//! Creating the table, key and secret on a fresh stack (the local moto stack; in AWS the
//! deployment templates own them), and seeding the first admin. Every step is idempotent.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use toolreg_core::aws::Clients;
use toolreg_core::domain::audit::{Actor, RequestMeta};
use toolreg_core::domain::user::Role;
use toolreg_core::services::auth::{create_user, CreateUserError};
use toolreg_core::state::AppState;

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type are set")
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("name and type are set")
}

fn gsi(name: &str) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(&format!("{name}PK"), KeyType::Hash))
        .key_schema(key(&format!("{name}SK"), KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("index fields are set")
}

/// Creates the single table (PK/SK, GSI1, GSI2, TTL on `expires_at`) unless it exists.
pub async fn ensure_table(c: &aws_sdk_dynamodb::Client, table: &str) -> Result<bool, String> {
    if c.describe_table().table_name(table).send().await.is_ok() {
        return Ok(false);
    }
    let created = c
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(
            ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"]
                .map(attr)
                .to_vec(),
        ))
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .global_secondary_indexes(gsi("GSI1"))
        .global_secondary_indexes(gsi("GSI2"))
        .send()
        .await;
    match created {
        Ok(_) => {}
        // An attempt that timed out (a DynamoDB Local still warming up on a loaded machine)
        // may have created the table before the SDK retried: the table is there, as wanted.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(format!("create table {table}: {e:?}")),
    }
    c.update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires_at")
                .enabled(true)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .send()
        .await
        .map_err(|e| format!("enable TTL on {table}: {e:?}"))?;
    Ok(true)
}

/// Makes sure `alias` names a symmetric KMS key; returns the alias.
pub async fn ensure_kms_alias(c: &aws_sdk_kms::Client, alias: &str) -> Result<String, String> {
    if c.describe_key().key_id(alias).send().await.is_ok() {
        return Ok(alias.to_owned());
    }
    let key = c
        .create_key()
        .description("toolreg static-header envelope key (local)")
        .send()
        .await
        .map_err(|e| format!("create KMS key: {e:?}"))?;
    let key_id = key
        .key_metadata
        .map(|m| m.key_id)
        .ok_or("KMS returned no key id")?;
    if let Err(e) = c
        .create_alias()
        .alias_name(alias)
        .target_key_id(key_id)
        .send()
        .await
    {
        // Another process set the stack up at the same moment: its alias is as good as ours.
        if c.describe_key().key_id(alias).send().await.is_err() {
            return Err(format!("create KMS alias {alias}: {e:?}"));
        }
    }
    Ok(alias.to_owned())
}

/// Makes sure `alias` names an ECC_NIST_P256 signing key (tool credentials).
pub async fn ensure_signing_key(c: &aws_sdk_kms::Client, alias: &str) -> Result<(), String> {
    if c.describe_key().key_id(alias).send().await.is_ok() {
        return Ok(());
    }
    let key = c
        .create_key()
        .description("toolreg tool-credential signing key (local)")
        .key_spec(aws_sdk_kms::types::KeySpec::EccNistP256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .map_err(|e| format!("create KMS signing key: {e:?}"))?;
    let key_id = key
        .key_metadata
        .map(|m| m.key_id)
        .ok_or("KMS returned no key id")?;
    if let Err(e) = c
        .create_alias()
        .alias_name(alias)
        .target_key_id(key_id)
        .send()
        .await
    {
        // Another process set the stack up at the same moment: its alias is as good as ours.
        if c.describe_key().key_id(alias).send().await.is_err() {
            return Err(format!("create KMS alias {alias}: {e:?}"));
        }
    }
    Ok(())
}

/// Makes sure the JWT signing secret exists, generating a random key if not.
pub async fn ensure_jwt_secret(
    c: &aws_sdk_secretsmanager::Client,
    name: &str,
) -> Result<(), String> {
    ensure_key_secret(c, name, "k1").await
}

/// Makes sure a `{"kid", "key"}` secret (the JWT key, the API-key pepper) exists, generating a
/// random key under `kid` if not.
pub async fn ensure_key_secret(
    c: &aws_sdk_secretsmanager::Client,
    name: &str,
    kid: &str,
) -> Result<(), String> {
    if c.describe_secret().secret_id(name).send().await.is_ok() {
        return Ok(());
    }
    use rand::distr::{Alphanumeric, SampleString};
    let key = Alphanumeric.sample_string(&mut rand::rng(), 64);
    let created = c
        .create_secret()
        .name(name)
        .secret_string(serde_json::json!({"kid": kid, "key": key}).to_string())
        .send()
        .await;
    if let Err(e) = created {
        // Lost a race with another process creating the same secret: theirs stands.
        if c.describe_secret().secret_id(name).send().await.is_err() {
            return Err(format!("create secret {name}: {e:?}"));
        }
    }
    Ok(())
}

/// Creates the table, key and secret the configuration names.
pub async fn ensure_stack(
    state_config: &toolreg_core::config::Config,
    clients: &Clients,
) -> Result<(), String> {
    ensure_table(&clients.dynamodb, &state_config.table_name).await?;
    ensure_kms_alias(&clients.kms, &state_config.kms_key_id).await?;
    ensure_jwt_secret(&clients.secrets, &state_config.jwt_secret_arn).await?;
    ensure_key_secret(&clients.secrets, &state_config.api_key_pepper_arn, "p1").await?;
    for key in &state_config.credential_kms_key_ids {
        if key.starts_with("alias/") {
            ensure_signing_key(&clients.kms, key).await?;
        }
    }
    Ok(())
}

/// What seeding a user did.
#[derive(Debug, PartialEq)]
pub enum Seeded {
    Created,
    AlreadyExists,
}

/// Creates an admin unless the username is taken.
pub async fn seed_admin(
    state: &AppState,
    username: &str,
    password: &str,
    via: &str,
) -> Result<Seeded, String> {
    let meta = RequestMeta {
        source_ip: String::new(),
        user_agent: via.to_owned(),
        request_id: uuid::Uuid::new_v4().to_string(),
    };
    let actor = Actor {
        user_id: Some("system:seed".into()),
        username: Some(via.to_owned()),
    };
    match create_user(state, username, password, Role::Admin, &actor, &meta).await {
        Ok(_) => Ok(Seeded::Created),
        Err(CreateUserError::Taken) => Ok(Seeded::AlreadyExists),
        Err(CreateUserError::Invalid(m)) => Err(m),
        Err(CreateUserError::Other(e)) => Err(format!("{e:?}")),
    }
}
