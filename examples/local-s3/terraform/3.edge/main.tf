data "terraform_remote_state" "app" {
  backend = "s3"
  config  = merge(var.state, { key = "2.app/terraform.tfstate" })
}

# A real object outside the engine: delete it and drift finds out.
resource "local_file" "page" {
  filename = "${var.site_dir}/index.html"
  content  = "<h1>${data.terraform_remote_state.app.outputs.app}</h1><p>${var.message}</p>\n"
}
