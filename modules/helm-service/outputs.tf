output "namespace" {
  description = "Namespace the release is installed in."
  value       = helm_release.this.namespace
}

output "release" {
  description = "Helm release name."
  value       = helm_release.this.name
}

output "host" {
  description = "Public hostname of the service, or null without ingress."
  value       = var.host
}

output "url" {
  description = "Public HTTPS URL of the service, or null without ingress."
  value       = var.host == null ? null : "https://${var.host}"
}

output "secret_name" {
  description = "Name of the credentials secret created for the release, or null."
  value       = var.secret_name == null ? null : kubernetes_secret_v1.this[0].metadata[0].name
}
