locals {
  ingress_class  = "traefik"    # bundled with K3s
  storage_class  = "local-path" # bundled with K3s
  cluster_issuer = "letsencrypt"
  # [repository, tag]: the tag follows the last colon after the last slash.
  atlantis_image = regex("^([^@]+):([^:/@]+)$", var.atlantis_image)
}

module "nodep" {
  source = "../../modules/k3s-node"

  host            = var.vps_host
  ssh_user        = var.ssh_user
  ssh_private_key = var.ssh_private_key
  k3s_version     = var.k3s_version
  kubeconfig_path = var.kubeconfig_path

  # Kubero ships its operator as a plain manifest, not a chart: K3s applies
  # (and keeps re-applying) whatever sits in its manifests directory.
  manifest_urls = {
    kubero-operator = "https://raw.githubusercontent.com/kubero-dev/kubero-operator/main/deploy/operator.0.2.1.yaml"
  }
}

module "cert_manager" {
  source = "../../modules/helm-service"

  name          = "cert-manager"
  namespace     = "cert-manager"
  repository    = "https://charts.jetstack.io"
  chart         = "cert-manager"
  chart_version = "v1.16.2"
  values_file   = "${path.module}/values/cert-manager.yaml.tftpl"
}

# A ClusterIssuer is a CRD instance: kubernetes_manifest would need the CRD at
# plan time, a tiny local chart only at apply time.
module "cluster_issuer" {
  source = "../../modules/helm-service"

  name             = "cluster-issuer"
  namespace        = module.cert_manager.namespace
  create_namespace = false
  chart            = "${path.module}/charts/cluster-issuer"
  values_file      = "${path.module}/values/cluster-issuer.yaml.tftpl"
  template_vars = {
    issuer = local.cluster_issuer
    email  = var.acme_email
    zone   = var.base_domain
  }

  secret_name = "cloudflare-api-token"
  secret_data = { api-token = var.cloudflare_api_token }
}

module "external_dns" {
  source = "../../modules/helm-service"

  name          = "external-dns"
  namespace     = "external-dns"
  repository    = "https://kubernetes-sigs.github.io/external-dns/"
  chart         = "external-dns"
  chart_version = "1.15.0"
  values_file   = "${path.module}/values/external-dns.yaml.tftpl"
  template_vars = {
    zone = var.base_domain
  }

  secret_name = "cloudflare-api-token"
  secret_data = { api-token = var.cloudflare_api_token }
}

module "atlantis" {
  source = "../../modules/helm-service"

  name           = "atlantis"
  namespace      = "atlantis"
  repository     = "https://runatlantis.github.io/helm-charts"
  chart          = "atlantis"
  chart_version  = "5.17.2"
  host           = "i-atlantis.${var.base_domain}"
  ingress_class  = local.ingress_class
  cluster_issuer = local.cluster_issuer
  values_file    = "${path.module}/values/atlantis.yaml.tftpl"
  template_vars = {
    repo_allowlist   = var.atlantis_repo_allowlist
    github_app_id    = var.github_app_id
    github_app_slug  = "infra-flash"
    image_repository = local.atlantis_image[0]
    image_tag        = local.atlantis_image[1]
    # From "infra atlantis-config --server"; the project's tests keep it current.
    repo_config = file("${path.module}/values/atlantis-repos.yaml")
  }

  sensitive_set = {
    "githubApp.key"    = var.github_app_key
    "githubApp.secret" = var.github_webhook_secret
  }

  # Atlantis is the only plan/apply authority, this layer included: it gets the
  # state credentials and every input the layers need, as environment variables.
  secret_name = "atlantis-env"
  secret_data = {
    AWS_ACCESS_KEY_ID              = var.r2_access_key_id
    AWS_SECRET_ACCESS_KEY          = var.r2_secret_access_key
    TF_VAR_base_domain             = var.base_domain
    TF_VAR_r2_account_id           = var.r2_account_id
    TF_VAR_r2_access_key_id        = var.r2_access_key_id
    TF_VAR_r2_secret_access_key    = var.r2_secret_access_key
    TF_VAR_vps_host                = var.vps_host
    TF_VAR_ssh_user                = var.ssh_user
    TF_VAR_ssh_private_key         = var.ssh_private_key
    TF_VAR_acme_email              = var.acme_email
    TF_VAR_cloudflare_api_token    = var.cloudflare_api_token
    TF_VAR_github_app_id           = var.github_app_id
    TF_VAR_github_app_key          = var.github_app_key
    TF_VAR_github_webhook_secret   = var.github_webhook_secret
    TF_VAR_atlantis_repo_allowlist = var.atlantis_repo_allowlist
    TF_VAR_atlantis_image          = var.atlantis_image
  }

  # The webhook URL must resolve and serve a valid certificate before GitHub
  # delivers the first event.
  depends_on = [module.cluster_issuer, module.external_dns]
}
