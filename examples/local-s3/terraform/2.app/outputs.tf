output "app" {
  description = "The app's name."
  value       = "app-on-${data.terraform_remote_state.base.outputs.cluster}"
}

output "db_password" {
  description = "The database password."
  value       = random_password.db.result
  sensitive   = true
}
