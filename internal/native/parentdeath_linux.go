package native

import (
	"os/exec"
	"syscall"
)

// setParentDeath ends a provider server with the run even when the run is killed.
func setParentDeath(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
