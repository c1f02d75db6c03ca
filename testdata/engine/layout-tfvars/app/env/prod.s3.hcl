bucket = "state"
key    = "prod/app.tfstate"
region = "auto"
