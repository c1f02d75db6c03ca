layers = ["bootstrap", "platform", "aws-root"]
