path = "prod.tfstate"
