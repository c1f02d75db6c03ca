module "marker" {
  source = "../../modules/marker"
  name   = "1.base"
}
