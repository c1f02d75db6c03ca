output "cluster" {
  description = "Cluster facts from L1, passed through so each layer reads only the one below it."
  value       = local.cluster
}

output "vault_addr" {
  description = "In-cluster Vault API address for workloads and the Vault provider."
  value       = "http://${module.vault.release}.${module.vault.namespace}.svc.cluster.local:8200"
}

output "dagger_runner_host" {
  description = "In-cluster address of the shared Dagger engine: the DAGGER_RUNNER_HOST repository variable for runners inside the cluster."
  value       = "tcp://dagger.${module.dagger_engine.namespace}.svc.cluster.local:1234"
}
