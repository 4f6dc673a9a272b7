resource "aws_cloudwatch_log_group" "fn" {
  for_each          = local.functions
  name              = "/aws/lambda/${var.name}-${var.stage}-${each.key}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "fn" {
  for_each      = local.functions
  function_name = "${var.name}-${var.stage}-${each.key}"
  role          = aws_iam_role.fn[each.key].arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.architecture]
  memory_size   = each.value.memory
  timeout       = each.value.timeout
  filename      = "${var.artifacts_dir}/${each.key}/bootstrap.zip"
  # Lets `terraform validate` and `plan` run before `make package` has produced the zips.
  source_code_hash = try(filebase64sha256("${var.artifacts_dir}/${each.key}/bootstrap.zip"), null)

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.fn[each.key].name
  }

  environment {
    variables = local.environment
  }

  depends_on = [aws_iam_role_policy.fn]
}
