# A small layered tree to try plan, apply and drift on a local S3 server:
# scripts/try-apply. Only the null, random and local providers.
engine = "tofu" # S3 lock files (use_lockfile) need OpenTofu >= 1.10

layer "1.base" {
  # module.nodep is applied first anyway; listed here to show the setting.
  bootstrap_targets = ["module.nodep"]
}
