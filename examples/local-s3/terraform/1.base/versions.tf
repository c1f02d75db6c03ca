terraform {
  required_version = ">= 1.5.0"
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "~> 3.2"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
  # Everything else (bucket, endpoint, credentials) comes from the backend config
  # file given at run time: --backend-config.
  backend "s3" {
    key = "1.base/terraform.tfstate"
  }
}
