terraform {
  required_version = ">= 1.5.7"

  required_providers {
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.2"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 3.2"
    }
    null = {
      source  = "hashicorp/null"
      version = "~> 3.3"
    }
  }

  # State lives in Cloudflare R2 through its S3 API. Only the key is committed:
  # the bucket, the endpoint (it embeds the account id), the R2 settings and the
  # credentials come from a backend config file kept in the CI's secrets, passed
  # as `infra apply --backend-config FILE` (see terraform/backend.hcl.example).
  backend "s3" {
    key = "1.bootstrap/terraform.tfstate"
  }
}
