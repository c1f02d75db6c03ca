output "cluster" {
  description = "Cluster facts the upper layers build on (read via terraform_remote_state)."
  value = {
    api_server_url = module.nodep.api_server_url
    ingress_class  = local.ingress_class
    storage_class  = local.storage_class
    cluster_issuer = local.cluster_issuer
  }
}

output "atlantis_url" {
  description = "Atlantis UI and webhook base URL (GitHub App webhook: <url>/events)."
  value       = module.atlantis.url
}
