output "api_url" {
  value = aws_apigatewayv2_api.http.api_endpoint
}

output "table_name" {
  value = aws_dynamodb_table.main.name
}

output "kms_key_arn" {
  value = aws_kms_key.headers.arn
}

output "jwt_secret_arn" {
  value = aws_secretsmanager_secret.jwt.arn
}

output "api_key_pepper_secret_arn" {
  value = aws_secretsmanager_secret.pepper.arn
}
