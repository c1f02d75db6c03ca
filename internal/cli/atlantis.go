package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/infra-flash/infra/internal/atlantisyaml"
	"github.com/infra-flash/infra/internal/report"
)

const atlantisUsage = `Usage: infra atlantis-config [--check] [--source DIR] [--layers-dir DIR]

Writes atlantis.yaml at the repository root from the layer model: one Atlantis
project per layer, with the local modules it calls, planned and applied in
dependency order through the native CLI. With --check, writes nothing and exits 1
when the committed file differs from what the layers produce.
`

// atlantisConfig runs "infra atlantis-config".
func atlantisConfig(args []string, stdout, stderr io.Writer) int {
	o := &options{}
	var check bool
	flags := flag.NewFlagSet("atlantis-config", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	flags.StringVar(&o.source, "source", ".", "")
	flags.StringVar(&o.layersDir, "layers-dir", "", "")
	flags.BoolVar(&check, "check", false, "")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, atlantisUsage)
			return report.ExitOK
		}
		fmt.Fprintf(stderr, "infra atlantis-config: %v\n\n%s", err, atlantisUsage)
		return report.ExitBadInput
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "infra atlantis-config: unexpected argument %q\n", flags.Arg(0))
		return report.ExitBadInput
	}
	if st, err := os.Stat(o.source); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "infra atlantis-config: --source %q is not a directory\n", o.source)
		return report.ExitBadInput
	}
	set, _, err := discover(o)
	if err != nil {
		fmt.Fprintf(stderr, "infra atlantis-config: %v\n", err)
		return report.ExitBadInput
	}
	out, err := atlantisyaml.Render(set)
	if err != nil {
		fmt.Fprintf(stderr, "infra atlantis-config: %v\n", err)
		return report.ExitBadInput
	}
	target := filepath.Join(o.source, atlantisyaml.FileName)
	if check {
		committed, err := os.ReadFile(target)
		if errors.Is(err, fs.ErrNotExist) {
			committed = nil
		} else if err != nil {
			fmt.Fprintf(stderr, "infra atlantis-config: %v\n", err)
			return report.ExitToolError
		}
		if err := atlantisyaml.Check(committed, out); err != nil {
			fmt.Fprintf(stderr, "infra atlantis-config: %v\n", err)
			return report.ExitFailed
		}
		fmt.Fprintf(stdout, "%s matches the layers (%d projects)\n", atlantisyaml.FileName, len(set.Layers))
		return report.ExitOK
	}
	if err := os.WriteFile(target, out, 0o644); err != nil {
		fmt.Fprintf(stderr, "infra atlantis-config: %v\n", err)
		return report.ExitToolError
	}
	fmt.Fprintf(stdout, "wrote %s (%d projects)\n", target, len(set.Layers))
	return report.ExitOK
}
