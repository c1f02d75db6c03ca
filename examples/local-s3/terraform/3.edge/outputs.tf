output "page" {
  description = "The page's path."
  value       = local_file.page.filename
}
