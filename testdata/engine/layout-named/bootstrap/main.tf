terraform {
  required_version = ">= 1.5.0"
  backend "s3" {
    bucket = "state"
    key    = "bootstrap.tfstate"
    region = "auto"
  }
}

output "name" {
  description = "This layer's name."
  value       = "bootstrap"
}
