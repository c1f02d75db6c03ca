output "host" {
  description = "Address of the K3s node."
  value       = var.host
}

output "api_server_url" {
  description = "Kubernetes API endpoint of the node (port 6443 must be reachable)."
  value       = "https://${var.host}:6443"
}

output "kubeconfig_path" {
  description = "Path of the kubeconfig written at install time (null when none); reading it orders provider use after the install."
  value       = var.kubeconfig_path
  depends_on  = [null_resource.k3s]
}
