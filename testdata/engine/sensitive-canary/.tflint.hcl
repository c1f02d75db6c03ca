# Bundled ruleset only (no `source`), so lint runs offline in CI and in Dagger.
plugin "terraform" {
  enabled = true
  preset  = "recommended"
}
