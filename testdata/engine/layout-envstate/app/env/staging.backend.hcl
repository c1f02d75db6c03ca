path = "staging.tfstate"
