variable "base_domain" {
  description = "Cloudflare zone the services live under (i-<service>.<base_domain>)."
  type        = string
}

variable "kubeconfig_path" {
  description = "Where the bootstrap writes and then reads the admin kubeconfig; null inside the cluster (Atlantis)."
  type        = string
  default     = null
}

variable "vps_host" {
  description = "Public IP or hostname of the VPS that becomes the K3s server."
  type        = string
}

variable "ssh_user" {
  description = "SSH user on the VPS (root or passwordless sudo)."
  type        = string
  default     = "root"
}

variable "ssh_private_key" {
  description = "PEM-encoded SSH private key for ssh_user."
  type        = string
  sensitive   = true
}

variable "k3s_version" {
  description = "K3s release installed on the VPS."
  type        = string
  default     = "v1.31.4+k3s1"
}

variable "acme_email" {
  description = "Contact e-mail of the Let's Encrypt account."
  type        = string
}

variable "cloudflare_api_token" {
  description = "Cloudflare API token with Zone:DNS:Edit on base_domain (DNS-01 and external-dns)."
  type        = string
  sensitive   = true
}

variable "github_app_id" {
  description = "App id of the infra-flash GitHub App Atlantis acts as."
  type        = string
}

variable "github_app_key" {
  description = "PEM private key of the infra-flash GitHub App."
  type        = string
  sensitive   = true
}

variable "github_webhook_secret" {
  description = "Webhook secret shared by the GitHub App and Atlantis."
  type        = string
  sensitive   = true
}

variable "atlantis_repo_allowlist" {
  description = "Repositories Atlantis accepts webhooks for, e.g. github.com/acme/infra."
  type        = string
}

variable "atlantis_image" {
  description = "Atlantis server image as REPOSITORY:TAG: the one `dagger call atlantis-image publish` pushed, which carries the infra CLI the atlantis.yaml workflow runs (default: the stock pinned release, which does not)."
  type        = string
  default     = "ghcr.io/runatlantis/atlantis:v0.34.0"

  validation {
    condition     = can(regex("^[^@]+:[^:/@]+$", var.atlantis_image))
    error_message = "atlantis_image must be REPOSITORY:TAG, such as ghcr.io/acme/atlantis-infra:v1."
  }
}

variable "r2_account_id" {
  description = "Cloudflare account id hosting the R2 state bucket."
  type        = string
}

variable "r2_access_key_id" {
  description = "R2 API token access key id, handed to Atlantis for state access."
  type        = string
  sensitive   = true
}

variable "r2_secret_access_key" {
  description = "R2 API token secret, handed to Atlantis for state access."
  type        = string
  sensitive   = true
}
