variable "region" {
  type    = string
  default = "us-east-1"
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "toolreg"
}

variable "stage" {
  type    = string
  default = "prod"
}

variable "artifacts_dir" {
  description = "Where `make package` left target/lambda/<function>/bootstrap.zip."
  type        = string
  default     = "../../target/lambda"
}

variable "architecture" {
  type    = string
  default = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64 (match `make build ARCH=...`)."
  }
}

variable "log_level" {
  type    = string
  default = "info"
}

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "access_token_ttl_minutes" {
  type    = number
  default = 15
}

variable "refresh_token_ttl_days" {
  type    = number
  default = 14
}

variable "elevated_token_ttl_minutes" {
  type    = number
  default = 5
}

variable "login_rate_limit_ip" {
  type    = string
  default = "5/minute"
}

variable "login_rate_limit_username" {
  type    = string
  default = "20/15 minutes"
}

variable "probe_rate_limit_user" {
  type    = string
  default = "10/minute"
}

variable "probe_rate_limit_ip" {
  type    = string
  default = "30/minute"
}

variable "probe_timeout_seconds" {
  type    = number
  default = 5
}

variable "probe_stale_after_hours" {
  type    = number
  default = 24
}

variable "reprobe_schedule" {
  type    = string
  default = "rate(15 minutes)"
}

variable "reprobe_concurrency" {
  type    = number
  default = 64
}

variable "table_deletion_protection" {
  type    = bool
  default = true
}
