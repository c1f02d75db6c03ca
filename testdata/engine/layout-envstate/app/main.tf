terraform {
  required_version = ">= 1.5.0"
  backend "local" {}
}

variable "replicas" {
  type        = number
  description = "How many, per environment."
}

resource "terraform_data" "replicas" {
  input = var.replicas
}

output "replicas" {
  description = "How many."
  value       = terraform_data.replicas.output
}
