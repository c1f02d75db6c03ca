locals {
  cluster = "eks"
    vpc   = data.terraform_remote_state.vpc.outputs.name
}
