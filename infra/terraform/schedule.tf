resource "aws_cloudwatch_event_rule" "reprobe" {
  name                = "${var.name}-${var.stage}-reprobe"
  description         = "Re-probe remote tools whose probe went stale"
  schedule_expression = var.reprobe_schedule
}

resource "aws_cloudwatch_event_target" "reprobe" {
  rule = aws_cloudwatch_event_rule.reprobe.name
  arn  = aws_lambda_function.fn["reprobe"].arn
}

resource "aws_lambda_permission" "schedule" {
  statement_id  = "AllowSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["reprobe"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.reprobe.arn
}
