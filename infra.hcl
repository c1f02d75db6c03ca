# Pipeline settings for this repository (all optional; see README).
layers_dir = "terraform"

# The layers keep state on Cloudflare R2 with S3 lock-file locking (use_lockfile),
# which OpenTofu 1.10+ supports; terraform 1.5.7 validates them too (--engine terraform).
engine = "tofu"
