# Both providers read the kubeconfig the nodep module downloads, so a fresh VPS
# needs `apply -target=module.nodep` first; in-cluster Atlantis leaves the path
# null and falls back to its service account.
provider "kubernetes" {
  config_path = module.nodep.kubeconfig_path
}

provider "helm" {
  kubernetes = {
    config_path = module.nodep.kubeconfig_path
  }
}
