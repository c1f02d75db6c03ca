variable "name" {
  description = "Helm release name; also the prefix of the TLS and credential secrets."
  type        = string
}

variable "namespace" {
  description = "Namespace of the release."
  type        = string
}

variable "create_namespace" {
  description = "Create (and own) the namespace; false to install into an existing one."
  type        = bool
  default     = true
}

variable "repository" {
  description = "Chart repository URL (https:// or oci://); null for a local chart path."
  type        = string
  default     = null
}

variable "chart" {
  description = "Chart name, or a local chart path when repository is null."
  type        = string
}

variable "chart_version" {
  description = "Pinned chart version; null only for local charts."
  type        = string
  default     = null
}

variable "values_file" {
  description = "Values template (.yaml.tftpl), rendered with host, url, ingress_class, tls_secret, annotations and secret_name plus template_vars."
  type        = string
  default     = null
}

variable "template_vars" {
  description = "Extra, non-secret variables for values_file."
  type        = map(string)
  default     = {}
}

variable "sensitive_set" {
  description = "Secret chart values (dotted path => value), passed with set_sensitive so they stay out of plans."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "secret_name" {
  description = "Name of an Opaque secret created in the namespace before the release (for charts that read existingSecret); null for none."
  type        = string
  default     = null
}

variable "secret_data" {
  description = "Data of the secret_name secret."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "host" {
  description = "Public hostname of the service (e.g. i-secrets.example.com); null when the service has no ingress."
  type        = string
  default     = null
}

variable "ingress_class" {
  description = "IngressClass for the service ingress (K3s ships Traefik)."
  type        = string
  default     = "traefik"
}

variable "cluster_issuer" {
  description = "cert-manager ClusterIssuer that signs the ingress certificate; null leaves TLS to the chart."
  type        = string
  default     = null
}

variable "wait" {
  description = "Wait for the workloads to become ready (and roll back on failure); false for apps that need a manual step first."
  type        = bool
  default     = true
}

variable "timeout" {
  description = "Seconds to wait for the release to become ready."
  type        = number
  default     = 600
}
