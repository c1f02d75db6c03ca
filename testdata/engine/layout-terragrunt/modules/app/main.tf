variable "replicas" {
  type        = number
  description = "How many."
}

output "replicas" {
  description = "How many."
  value       = var.replicas
}
