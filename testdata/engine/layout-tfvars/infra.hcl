layers = ["network", "app"]

environment "staging" {
  var_files      = ["env/staging.tfvars"]
  backend_config = "env/staging.s3.hcl"
}

environment "prod" {
  var_files      = ["env/prod.tfvars"]
  backend_config = "env/prod.s3.hcl"
}
