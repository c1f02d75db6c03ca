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

data "terraform_remote_state" "bootstrap" {
  backend = "s3"
  config  = merge(local.r2_state, { key = "1.bootstrap/terraform.tfstate" })
}

locals {
  cluster = data.terraform_remote_state.bootstrap.outputs.cluster
}

module "vault" {
  source = "../../modules/helm-service"

  name           = "vault"
  namespace      = "vault"
  repository     = "https://helm.releases.hashicorp.com"
  chart          = "vault"
  chart_version  = "0.29.1"
  host           = "i-secrets.${var.base_domain}"
  ingress_class  = local.cluster.ingress_class
  cluster_issuer = local.cluster.cluster_issuer
  values_file    = "${path.module}/values/vault.yaml.tftpl"
  template_vars = {
    storage_class = local.cluster.storage_class
  }
  # Vault starts sealed and stays unready until unsealed (once, by hand), so
  # the apply must not wait for readiness.
  wait = false
}

module "kdashboard" {
  source = "../../modules/helm-service"

  name           = "kubernetes-dashboard"
  namespace      = "kubernetes-dashboard"
  repository     = "https://kubernetes.github.io/dashboard/"
  chart          = "kubernetes-dashboard"
  chart_version  = "7.10.0"
  host           = "i-kdashboard.${var.base_domain}"
  ingress_class  = local.cluster.ingress_class
  cluster_issuer = local.cluster.cluster_issuer
  values_file    = "${path.module}/values/kubernetes-dashboard.yaml.tftpl"
}

resource "random_password" "kubero" {
  for_each = toset(["webhook", "session"])

  length  = 40
  special = false
}

# The kubero-operator (installed by L1) reconciles this Kubero resource into the
# UI; the local chart only carries the resource and its ingress settings.
module "kcloud" {
  source = "../../modules/helm-service"

  name           = "kubero"
  namespace      = "kubero"
  chart          = "${path.module}/charts/kubero"
  host           = "i-kcloud.${var.base_domain}"
  ingress_class  = local.cluster.ingress_class
  cluster_issuer = local.cluster.cluster_issuer
  values_file    = "${path.module}/values/kubero.yaml.tftpl"

  secret_name = "kubero-secrets"
  secret_data = {
    KUBERO_WEBHOOK_SECRET = random_password.kubero["webhook"].result
    KUBERO_SESSION_KEY    = random_password.kubero["session"].result
  }
}

# A shared Dagger engine for CI (README: "Outgrowing one runner"): one warm build
# cache on a persistent volume instead of a cold engine per runner. The chart runs
# the engine of its own version, so chart_version follows dagger.json's
# engineVersion (a test holds them equal). No ingress: it is reachable inside the
# cluster only, from namespaces labelled dagger-engine-client=true.
module "dagger_engine" {
  source = "../../modules/helm-service"

  name          = "dagger"
  namespace     = "dagger"
  repository    = "oci://registry.dagger.io"
  chart         = "dagger-helm"
  chart_version = "0.21.8"
  values_file   = "${path.module}/values/dagger.yaml.tftpl"
  template_vars = {
    storage_class = local.cluster.storage_class
    cache_size    = var.dagger_cache_size
  }
}

# The engine runs privileged and executes whatever a client sends: only CI
# runners may reach it.
resource "kubernetes_network_policy_v1" "dagger_engine" {
  metadata {
    name      = "dagger-engine-clients"
    namespace = module.dagger_engine.namespace
  }

  spec {
    pod_selector {}
    policy_types = ["Ingress"]

    ingress {
      from {
        namespace_selector {
          match_labels = {
            "dagger-engine-client" = "true"
          }
        }
      }
      ports {
        port     = "1234"
        protocol = "TCP"
      }
    }
  }
}
