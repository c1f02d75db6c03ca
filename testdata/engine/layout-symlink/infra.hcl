layers_dir = "layers"
