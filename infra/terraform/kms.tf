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
