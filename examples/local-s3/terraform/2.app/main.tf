data "terraform_remote_state" "base" {
  backend = "s3"
  config  = merge(var.state, { key = "1.base/terraform.tfstate" })
}

# A secret: the engine marks it sensitive, and plans show it redacted.
resource "random_password" "db" {
  length = 24
  keepers = {
    cluster = data.terraform_remote_state.base.outputs.cluster
  }
}
