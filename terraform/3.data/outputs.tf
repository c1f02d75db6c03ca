output "cluster" {
  description = "Cluster facts from L1, passed through so each layer reads only the one below it."
  value       = local.cluster
}

output "endpoints" {
  description = "In-cluster connection endpoints and the secret holding each store's credentials."
  value = {
    postgres = { host = "${module.postgres.release}.${local.svc}", port = 5432, secret = module.postgres.secret_name }
    redis    = { host = "${module.redis.release}-master.${local.svc}", port = 6379, secret = module.redis.secret_name }
    neo4j    = { host = "${module.neo4j.release}.${local.svc}", port = 7687, secret = module.neo4j.secret_name }
  }
}

output "redis_password" {
  description = "Redis password, for consumers in other namespaces (secrets are namespace-scoped)."
  value       = random_password.db["redis"].result
  sensitive   = true
}
