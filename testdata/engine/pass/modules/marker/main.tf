terraform {
  required_version = ">= 1.5.0"
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = ">= 3.0"
    }
  }
}

variable "name" {
  description = "What the marker is for."
  type        = string
}

resource "null_resource" "this" {
  triggers = {
    name = var.name
  }
}

output "id" {
  description = "The marker's id."
  value       = null_resource.this.id
}
