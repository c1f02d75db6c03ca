variable "host" {
  description = "Public IP or DNS name of the VPS; also added as a TLS SAN of the API server."
  type        = string
}

variable "ssh_user" {
  description = "SSH user on the VPS (root, or a user with passwordless sudo)."
  type        = string
}

variable "ssh_private_key" {
  description = "PEM-encoded SSH private key for ssh_user."
  type        = string
  sensitive   = true
}

variable "ssh_port" {
  description = "SSH port of the VPS."
  type        = number
  default     = 22
}

variable "k3s_version" {
  description = "K3s release to install (INSTALL_K3S_VERSION); changing it upgrades the node in place."
  type        = string
}

variable "k3s_flags" {
  description = "Extra flags for `k3s server`."
  type        = list(string)
  default     = []
}

variable "manifest_urls" {
  description = "Manifests (name => URL) dropped into the K3s auto-deploy directory, for operators that ship no Helm chart."
  type        = map(string)
  default     = {}
}

variable "kubeconfig_path" {
  description = "Where to write the admin kubeconfig on the machine running the install; null skips the download (e.g. in-cluster Atlantis)."
  type        = string
  default     = null
}
