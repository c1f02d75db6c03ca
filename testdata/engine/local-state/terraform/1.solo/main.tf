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
  description = "What the marker is called."
  type        = string
  default     = "solo"
}

resource "null_resource" "marker" {
  triggers = {
    name = var.name
  }
}

output "marker_id" {
  description = "The marker's id."
  value       = null_resource.marker.id
}
