service "app" {
  layer     = "platform"
  name      = "App"
  subdomain = "app"
}

service "db-staging" {
  layer     = "staging-data"
  name      = "DB"
  subdomain = "db"
}

service "db-prod" {
  layer     = "prod-data"
  name      = "Warehouse"
  subdomain = "warehouse"
}
