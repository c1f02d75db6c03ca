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
    random = {
      source  = "hashicorp/random"
      version = "~> 3.9"
    }
  }

  # State lives in Cloudflare R2 through its S3 API. The endpoint embeds the
  # account id, so it is passed at init rather than committed:
  #   terraform init -backend-config='endpoints={s3="https://<R2_ACCOUNT_ID>.r2.cloudflarestorage.com"}'
  # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of an R2 API token.
  # R2 is not AWS: skip the AWS-only checks and lock with a lock object in the bucket.
  # These arguments need Terraform >= 1.11 or OpenTofu >= 1.10 to init; 1.5.7
  # only accepts this block when the backend is skipped (init -backend=false).
  backend "s3" {
    bucket                      = "infra-state"
    key                         = "3.data/terraform.tfstate"
    region                      = "auto"
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_region_validation      = true
    skip_metadata_api_check     = true
    skip_s3_checksum            = true
    use_lockfile                = true
  }
}
