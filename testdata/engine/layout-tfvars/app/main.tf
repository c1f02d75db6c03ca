terraform {
  required_version = ">= 1.5.0"
  backend "s3" {}
}

variable "replicas" {
  type        = number
  description = "How many."
}

data "terraform_remote_state" "network" {
  backend = "s3"
  config = {
    bucket = "state"
    key    = "network.tfstate"
    region = "auto"
  }
}

output "network" {
  description = "The network it runs in."
  value       = data.terraform_remote_state.network.outputs.name
}

output "replicas" {
  description = "How many."
  value       = var.replicas
}
