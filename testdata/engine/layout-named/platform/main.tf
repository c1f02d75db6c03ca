terraform {
  required_version = ">= 1.5.0"
  backend "s3" {
    bucket = "state"
    key    = "platform.tfstate"
    region = "auto"
  }
}

data "terraform_remote_state" "bootstrap" {
  backend = "s3"
  config = {
    bucket = "state"
    key    = "bootstrap.tfstate"
    region = "auto"
  }
}

output "name" {
  description = "This layer's name."
  value       = "platform after ${data.terraform_remote_state.bootstrap.outputs.name}"
}
