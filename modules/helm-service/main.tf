locals {
  namespace  = var.create_namespace ? kubernetes_namespace_v1.this[0].metadata[0].name : var.namespace
  tls_secret = "${var.name}-tls"

  # external-dns publishes the ingress hosts; cert-manager issues the certificate.
  annotations = merge(
    var.host == null ? {} : { "external-dns.alpha.kubernetes.io/hostname" = var.host },
    var.cluster_issuer == null ? {} : { "cert-manager.io/cluster-issuer" = var.cluster_issuer },
  )

  template_vars = merge(var.template_vars, {
    host          = var.host == null ? "" : var.host
    url           = var.host == null ? "" : "https://${var.host}"
    ingress_class = var.ingress_class
    tls_secret    = local.tls_secret
    secret_name   = var.secret_name == null ? "" : var.secret_name
    annotations   = jsonencode(local.annotations)
  })
}

resource "kubernetes_namespace_v1" "this" {
  count = var.create_namespace ? 1 : 0

  metadata {
    name = var.namespace
    labels = {
      "app.kubernetes.io/managed-by" = "terraform"
    }
  }
}

resource "kubernetes_secret_v1" "this" {
  count = var.secret_name == null ? 0 : 1

  metadata {
    name      = var.secret_name
    namespace = local.namespace
  }

  data = var.secret_data
}

resource "helm_release" "this" {
  name       = var.name
  namespace  = local.namespace
  repository = var.repository
  chart      = var.chart
  version    = var.chart_version
  timeout    = var.timeout
  wait       = var.wait

  # Roll back a failed upgrade instead of leaving a half-applied release behind.
  atomic          = var.wait
  cleanup_on_fail = true
  max_history     = 5

  values = var.values_file == null ? [] : [templatefile(var.values_file, local.template_vars)]

  set_sensitive = length(var.sensitive_set) == 0 ? null : [
    for path, value in var.sensitive_set : { name = path, value = value }
  ]

  # Charts reading existingSecret must not start before it exists.
  depends_on = [kubernetes_secret_v1.this]
}
