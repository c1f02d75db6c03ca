output "cluster" {
  description = "Cluster facts from L1, passed through so each layer reads only the one below it."
  value       = local.cluster
}

output "vault_addr" {
  description = "In-cluster Vault API address for workloads and the Vault provider."
  value       = "http://${module.vault.release}.${module.vault.namespace}.svc.cluster.local:8200"
}
