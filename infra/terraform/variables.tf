# The deployment's own variables; the service's settings are in settings.tf (generated).

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

variable "log_retention_days" {
  type    = number
  default = 30
}

variable "reprobe_schedule" {
  type    = string
  default = "rate(15 minutes)"
}

variable "table_deletion_protection" {
  type    = bool
  default = true
}
