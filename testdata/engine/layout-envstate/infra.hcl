layers = ["app"]

environment "staging" {
  var_files      = ["env/staging.tfvars"]
  backend_config = "env/staging.backend.hcl"
}

environment "prod" {
  var_files      = ["env/prod.tfvars"]
  backend_config = "env/prod.backend.hcl"
}
