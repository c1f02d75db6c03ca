terraform {
  required_providers {
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

resource "random_pet" "cluster" {
  length = 2
}

output "cluster" {
  description = "The cluster's name."
  value       = random_pet.cluster.id
}
