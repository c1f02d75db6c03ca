terraform {
  required_version = ">= 1.5.0"
  backend "local" {
    path = "../../state/a.tfstate"
  }
}

module "m" {
  source = "./mod"
}

output "name" {
  description = "This layer's name."
  value       = "a"
}
