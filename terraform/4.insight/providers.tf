# Null kubeconfig_path = in-cluster service account (Atlantis); CI and laptops
# pass the path of the kubeconfig the bootstrap produced.
provider "kubernetes" {
  config_path = var.kubeconfig_path
}

provider "helm" {
  kubernetes = {
    config_path = var.kubeconfig_path
  }
}
