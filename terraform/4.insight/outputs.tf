output "services" {
  description = "Public services of this layer (name, host, layer), read by the /dig health check."
  value = {
    signoz  = { name = "SigNoz", host = module.signoz.host, layer = "L4" }
    posthog = { name = "PostHog", host = module.posthog.host, layer = "L4" }
  }
}
