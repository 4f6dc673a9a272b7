# The same deployment as template.yaml. Routes come from infra/routes.json and permissions,
# timeouts and memory from infra/functions.json, both rendered from the code's route table by
# `make infra`; a test fails when they are stale.

locals {
  routes      = jsondecode(file("${path.module}/../routes.json"))
  permissions = jsondecode(file("${path.module}/../functions.json")).functions
  route_by_fn = { for r in local.routes : r.function => r }

  functions = {
    for fn, p in local.permissions : fn => {
      route   = lookup(local.route_by_fn, fn, null)
      timeout = p.timeout
      memory  = p.memory
      perms   = p
    }
  }

  environment = {
    STAGE                      = var.stage
    RUST_LOG                   = var.log_level
    TABLE_NAME                 = aws_dynamodb_table.main.name
    KMS_KEY_ID                 = aws_kms_key.headers.arn
    CREDENTIAL_KMS_KEY_IDS     = aws_kms_key.credentials.arn
    JWT_SECRET_ARN             = aws_secretsmanager_secret.jwt.arn
    API_KEY_PEPPER_SECRET_ARN  = aws_secretsmanager_secret.pepper.arn
    ACCESS_TOKEN_TTL_MINUTES   = tostring(var.access_token_ttl_minutes)
    REFRESH_TOKEN_TTL_DAYS     = tostring(var.refresh_token_ttl_days)
    ELEVATED_TOKEN_TTL_MINUTES = tostring(var.elevated_token_ttl_minutes)
    LOGIN_RATE_LIMIT_IP        = var.login_rate_limit_ip
    LOGIN_RATE_LIMIT_USERNAME  = var.login_rate_limit_username
    PROBE_RATE_LIMIT_USER      = var.probe_rate_limit_user
    PROBE_RATE_LIMIT_IP        = var.probe_rate_limit_ip
    PROBE_TIMEOUT_SECONDS      = tostring(var.probe_timeout_seconds)
    PROBE_STALE_AFTER_HOURS    = tostring(var.probe_stale_after_hours)
    REPROBE_CONCURRENCY        = tostring(var.reprobe_concurrency)
  }
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
