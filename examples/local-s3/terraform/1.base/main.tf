# Stands in for what a real first layer bootstraps (a VPS and its cluster): the
# rest of the layer needs it to exist, so it is applied first, on its own.
module "nodep" {
  source = "./nodep"
}

resource "null_resource" "platform" {
  triggers = {
    cluster = module.nodep.cluster
  }
}
