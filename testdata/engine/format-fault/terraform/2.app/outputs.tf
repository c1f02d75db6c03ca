output "marker" {
  description = "This layer's marker."
  value       = module.marker.id
}

output "from_l_1_base" {
  description = "The marker of a layer this one reads."
  value       = data.terraform_remote_state.l_1_base.outputs.marker
}
