terraform {
  required_version = ">= 1.5.0"
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = ">= 3.0"
    }
  }
  backend "s3" {
    bucket = "state"
    key    = "2.app/terraform.tfstate"
    region = "auto"
  }
}
