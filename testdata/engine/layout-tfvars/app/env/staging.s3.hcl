bucket = "state"
key    = "staging/app.tfstate"
region = "auto"
