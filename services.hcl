# The platform's documented services: the one list `infra dig` probes, the README's
# services table is generated from (`infra catalog --write`), and `infra catalog
# --check` compares with the hosts the layers build from var.base_domain.
#
#   layer     the layer that defines the service: "L2", "platform" or "2.platform"
#   name      display name
#   subdomain host under the base domain; "@" for the base domain itself
#   port      optional, default 443
#   path      optional, default "/": what is requested (follows up to 5 redirects)
#   expect    optional, default [200]: the status codes that mean healthy
#             ([401, 403] for a service that is healthy when it asks for credentials)
#
# A host the layers build that serves no HTTP (mail, say) goes in a top-level
#   non_http = ["mail"]
# instead of a service block; DNS-only names (_acme-challenge) need not be listed.

service "atlantis" {
  layer     = "L1"
  name      = "Atlantis"
  subdomain = "i-atlantis"
  path      = "/healthz"
}

service "vault" {
  layer     = "L2"
  name      = "Vault"
  subdomain = "i-secrets"
  # 200 only when initialized, unsealed and active (503 while sealed).
  path = "/v1/sys/health"
}

service "kdashboard" {
  layer     = "L2"
  name      = "K8s Dashboard"
  subdomain = "i-kdashboard"
}

service "kcloud" {
  layer     = "L2"
  name      = "Kubero"
  subdomain = "i-kcloud"
}

service "signoz" {
  layer     = "L4"
  name      = "SigNoz"
  subdomain = "i-signoz"
  path      = "/api/v1/health"
}

service "posthog" {
  layer     = "L4"
  name      = "PostHog"
  subdomain = "i-posthog"
  path      = "/_health"
}
