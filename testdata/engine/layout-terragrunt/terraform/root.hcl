remote_state {
  backend = "s3"
  generate = {
    path      = "backend.tf"
    if_exists = "overwrite"
  }
  config = {
    bucket = "state"
    key    = "${path_relative_to_include()}/terraform.tfstate"
    region = "auto"
  }
}
