terraform {
  required_version = ">= 1.5.0"
  backend "local" {
    path = "b.tfstate"
  }
}

data "terraform_remote_state" "a" {
  backend = "local"
  config = {
    path = "../state/a.tfstate"
  }
}

output "name" {
  description = "This layer's name."
  value       = "b after ${data.terraform_remote_state.a.outputs.name} after ${data.terraform_remote_state.a.outputs.name}"
}
