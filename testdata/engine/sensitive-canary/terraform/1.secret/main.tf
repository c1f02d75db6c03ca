terraform {
  required_version = ">= 1.5.0"
}

variable "token" {
  type        = string
  sensitive   = true
  description = "A secret the reports must never show."
}

resource "terraform_data" "copy" {
  input = var.token
}

output "token" {
  description = "The secret, marked sensitive."
  value       = terraform_data.copy.output
  sensitive   = true
}
