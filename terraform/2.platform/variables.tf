variable "base_domain" {
  description = "Cloudflare zone the services live under (i-<service>.<base_domain>)."
  type        = string
}

variable "kubeconfig_path" {
  description = "Kubeconfig of the K3s cluster; null to use the in-cluster service account (Atlantis)."
  type        = string
  default     = null
}

variable "r2_account_id" {
  description = "Cloudflare account id hosting the R2 state bucket (to read the lower layer's state)."
  type        = string
}

variable "dagger_cache_size" {
  description = "Size of the shared Dagger engine's cache volume."
  type        = string
  default     = "50Gi"

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|Ti)$", var.dagger_cache_size))
    error_message = "dagger_cache_size is a Kubernetes quantity such as 50Gi."
  }
}
