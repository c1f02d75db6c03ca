layers = ["bootstrap", "platform", "envs/*/data"]

environment "staging" {
  dir    = "envs/staging"
  domain = "staging.example.com"
}

environment "prod" {
  dir    = "envs/prod"
  domain = "example.com"
}
