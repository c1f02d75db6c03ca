// Command infra runs the layered Terraform checks natively. See `infra --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/infra-flash/infra/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
