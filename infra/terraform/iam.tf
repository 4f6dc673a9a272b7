data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "fn" {
  for_each           = local.functions
  name               = "${var.name}-${var.stage}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

# Logs go only to the function's own log group.
data "aws_iam_policy_document" "fn" {
  for_each = local.functions

  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fn[each.key].arn}:*"]
  }

  dynamic "statement" {
    for_each = length(each.value.perms.dynamodb) > 0 ? [1] : []
    content {
      actions = [for a in each.value.perms.dynamodb : "dynamodb:${a}"]
      resources = concat(
        [aws_dynamodb_table.main.arn],
        each.value.perms.index ? ["${aws_dynamodb_table.main.arn}/index/*"] : []
      )
    }
  }

  dynamic "statement" {
    for_each = length(each.value.perms.kms) > 0 ? [1] : []
    content {
      actions   = [for a in each.value.perms.kms : "kms:${a}"]
      resources = [aws_kms_key.headers.arn]
    }
  }

  dynamic "statement" {
    for_each = each.value.perms.secret ? [1] : []
    content {
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [aws_secretsmanager_secret.jwt.arn]
    }
  }

  dynamic "statement" {
    for_each = length(try(each.value.perms.signing, [])) > 0 ? [1] : []
    content {
      actions   = [for a in each.value.perms.signing : "kms:${a}"]
      resources = [aws_kms_key.credentials.arn]
    }
  }

  dynamic "statement" {
    for_each = try(each.value.perms.pepper, false) ? [1] : []
    content {
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [aws_secretsmanager_secret.pepper.arn]
    }
  }
}

resource "aws_iam_role_policy" "fn" {
  for_each = local.functions
  name     = "least-privilege"
  role     = aws_iam_role.fn[each.key].id
  policy   = data.aws_iam_policy_document.fn[each.key].json
}
