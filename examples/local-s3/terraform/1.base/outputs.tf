output "cluster" {
  description = "The cluster's name."
  value       = module.nodep.cluster
}
