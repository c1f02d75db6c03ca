token = "CANARY-5e9f0c7d-secret"
