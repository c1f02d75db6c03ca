terraform {
  required_version = ">= 1.5.0"
}

output "m" {
  description = "m"
  value       = "m"
}
