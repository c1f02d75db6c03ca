locals {
  # Same bucket and R2 settings as the backend in versions.tf.
  r2_state = {
    bucket                      = "infra-state"
    region                      = "auto"
    endpoints                   = { s3 = "https://${var.r2_account_id}.r2.cloudflarestorage.com" }
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_region_validation      = true
    skip_metadata_api_check     = true
    skip_s3_checksum            = true
  }
}

data "terraform_remote_state" "data" {
  backend = "s3"
  config  = merge(local.r2_state, { key = "3.data/terraform.tfstate" })
}
