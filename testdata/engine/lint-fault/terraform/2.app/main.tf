module "marker" {
  source = "../../modules/marker"
  name   = "2.app-${var.owner}"
}

data "terraform_remote_state" "l_1_base" {
  backend = "s3"
  config = {
    bucket = "state"
    key    = "1.base/terraform.tfstate"
    region = "auto"
  }
}
