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

locals {
  cluster = data.terraform_remote_state.data.outputs.cluster
  redis   = data.terraform_remote_state.data.outputs.endpoints.redis
}

module "signoz" {
  source = "../../modules/helm-service"

  name           = "signoz"
  namespace      = "signoz"
  repository     = "https://charts.signoz.io"
  chart          = "signoz"
  chart_version  = "0.74.0"
  host           = "i-signoz.${var.base_domain}"
  ingress_class  = local.cluster.ingress_class
  cluster_issuer = local.cluster.cluster_issuer
  values_file    = "${path.module}/values/signoz.yaml.tftpl"
  template_vars = {
    storage_class = local.cluster.storage_class
  }
  # ClickHouse and its migrations take a while on a small VPS.
  timeout = 1200
}

# PostHog reuses the L3 Redis instead of bundling its own; its password is copied
# into PostHog's namespace because secrets cannot be read across namespaces.
module "posthog" {
  source = "../../modules/helm-service"

  name           = "posthog"
  namespace      = "posthog"
  repository     = "https://posthog.github.io/charts-clickhouse/"
  chart          = "posthog"
  chart_version  = "30.33.0"
  host           = "i-posthog.${var.base_domain}"
  ingress_class  = local.cluster.ingress_class
  cluster_issuer = local.cluster.cluster_issuer
  values_file    = "${path.module}/values/posthog.yaml.tftpl"
  template_vars = {
    storage_class = local.cluster.storage_class
    redis_host    = local.redis.host
    redis_port    = tostring(local.redis.port)
  }
  timeout = 1200

  secret_name = "posthog-redis"
  secret_data = {
    redis-password = data.terraform_remote_state.data.outputs.redis_password
  }
}
