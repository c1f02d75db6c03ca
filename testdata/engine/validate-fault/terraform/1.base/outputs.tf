output "marker" {
  description = "This layer's marker."
  value       = module.marker.id
}
