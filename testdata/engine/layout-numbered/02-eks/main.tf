terraform {
  required_version = ">= 1.5.0"
  backend "s3" {
    bucket = "state"
    key    = "eks/terraform.tfstate"
    region = "auto"
  }
}

data "terraform_remote_state" "vpc" {
  backend = "s3"
  config = {
    bucket = "state"
    key    = "vpc/terraform.tfstate"
    region = "auto"
  }
}

output "name" {
  description = "This layer's name."
  value       = "${local.cluster} in ${local.vpc}"
}
