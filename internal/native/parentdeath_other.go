//go:build !linux

package native

import "os/exec"

// setParentDeath: only Linux can tie a child's life to its parent's; elsewhere
// Close stops the servers.
func setParentDeath(*exec.Cmd) {}
