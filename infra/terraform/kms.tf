resource "aws_kms_key" "headers" {
  description         = "Wraps the per-tool data keys that seal remote tools' static headers"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersTheKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kms_alias" "headers" {
  name          = "alias/${var.name}-${var.stage}-headers"
  target_key_id = aws_kms_key.headers.key_id
}

# Signs tool credentials (ES256); the private key never leaves KMS. Rotate by adding a key in
# front of CREDENTIAL_KMS_KEY_IDS and keeping the old one listed until its credentials expired.
resource "aws_kms_key" "credentials" {
  description              = "toolreg tool-credential signing key (ES256)"
  customer_master_key_spec = "ECC_NIST_P256"
  key_usage                = "SIGN_VERIFY"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersTheKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}
