terraform {
  required_version = ">= 1.5.0"
  backend "s3" {
    bucket = "state"
    key    = "prereqs/terraform.tfstate"
    region = "auto"
  }
}

output "name" {
  description = "This layer's name."
  value       = "prereqs"
}
