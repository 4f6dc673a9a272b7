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

  # The stack's own resources, then the settings (settings.tf); an empty setting is left
  # unset, so the service's own default applies.
  environment = merge({
    STAGE                     = var.stage
    TABLE_NAME                = aws_dynamodb_table.main.name
    KMS_KEY_ID                = aws_kms_key.headers.arn
    CREDENTIAL_KMS_KEY_IDS    = aws_kms_key.credentials.arn
    JWT_SECRET_ARN            = aws_secretsmanager_secret.jwt.arn
    API_KEY_PEPPER_SECRET_ARN = aws_secretsmanager_secret.pepper.arn
  }, { for k, v in local.settings : k => v if v != "" })
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
