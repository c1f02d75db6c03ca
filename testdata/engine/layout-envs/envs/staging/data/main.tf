terraform {
  required_version = ">= 1.5.0"
  backend "s3" {
    bucket = "state"
    key    = "staging/data.tfstate"
    region = "auto"
  }
}

data "terraform_remote_state" "platform" {
  backend = "s3"
  config = {
    bucket = "state"
    key    = "platform.tfstate"
    region = "auto"
  }
}

output "name" {
  description = "This layer's name."
  value       = "staging-data after ${data.terraform_remote_state.platform.outputs.name}"
}
