terraform {
  required_version = ">= 1.5.0"
  backend "s3" {
    bucket = "state"
    key    = "vpc/terraform.tfstate"
    region = "auto"
  }
}

data "terraform_remote_state" "prereqs" {
  backend = "s3"
  config = {
    bucket = "state"
    key    = "prereqs/terraform.tfstate"
    region = "auto"
  }
}

output "name" {
  description = "This layer's name."
  value       = "vpc after ${data.terraform_remote_state.prereqs.outputs.name}"
}
