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

data "terraform_remote_state" "platform" {
  backend = "s3"
  config  = merge(local.r2_state, { key = "2.platform/terraform.tfstate" })
}

locals {
  cluster = data.terraform_remote_state.platform.outputs.cluster
}

# One namespace for all stateful stores: a single place for backups and quotas.
resource "kubernetes_namespace_v1" "data" {
  metadata {
    name = "data"
    labels = {
      "app.kubernetes.io/managed-by" = "terraform"
    }
    # Names the environment this data belongs to, for backup and restore tooling.
    annotations = {
      "infra/base-domain" = var.base_domain
    }
  }
}

locals {
  svc = "${kubernetes_namespace_v1.data.metadata[0].name}.svc.cluster.local"
}

# Alphanumeric only: the passwords end up in connection URLs.
resource "random_password" "db" {
  for_each = toset(["postgres_admin", "postgres_app", "redis", "neo4j"])

  length  = 32
  special = false
}

module "postgres" {
  source = "../../modules/helm-service"

  name             = "postgresql"
  namespace        = kubernetes_namespace_v1.data.metadata[0].name
  create_namespace = false
  repository       = "oci://registry-1.docker.io/bitnamicharts"
  chart            = "postgresql"
  chart_version    = "16.4.5"
  values_file      = "${path.module}/values/postgresql.yaml.tftpl"
  template_vars = {
    storage_class = local.cluster.storage_class
  }

  secret_name = "postgresql-credentials"
  secret_data = {
    postgres-password = random_password.db["postgres_admin"].result
    password          = random_password.db["postgres_app"].result
  }
}

module "redis" {
  source = "../../modules/helm-service"

  name             = "redis"
  namespace        = kubernetes_namespace_v1.data.metadata[0].name
  create_namespace = false
  repository       = "oci://registry-1.docker.io/bitnamicharts"
  chart            = "redis"
  chart_version    = "20.6.2"
  values_file      = "${path.module}/values/redis.yaml.tftpl"
  template_vars = {
    storage_class = local.cluster.storage_class
  }

  secret_name = "redis-credentials"
  secret_data = {
    redis-password = random_password.db["redis"].result
  }
}

module "neo4j" {
  source = "../../modules/helm-service"

  name             = "neo4j"
  namespace        = kubernetes_namespace_v1.data.metadata[0].name
  create_namespace = false
  repository       = "https://helm.neo4j.com/neo4j"
  chart            = "neo4j"
  chart_version    = "5.26.0"
  values_file      = "${path.module}/values/neo4j.yaml.tftpl"
  template_vars = {
    storage_class = local.cluster.storage_class
  }

  secret_name = "neo4j-auth"
  secret_data = {
    NEO4J_AUTH = "neo4j/${random_password.db["neo4j"].result}"
  }
}
