# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/null" {
  version     = "3.3.1"
  constraints = ">= 3.0.0"
  hashes = [
    "h1:vqvXAeLL8TEgZesjbaMzS6898v6yU0C9m/8VjS0JEmU=",
  ]
}
