package main

import (
	"context"
	"fmt"

	"github.com/infra-flash/infra/internal/atlantisyaml"
)

// AtlantisConfig returns the atlantis.yaml the layer model produces (write it with
// `dagger call atlantis-config -o atlantis.yaml`); with --check it writes nothing
// and fails when the repository's committed file differs; with --server it returns
// the Atlantis server-side repo config defining the infra workflow.
func (m *Infra) AtlantisConfig(
	ctx context.Context,
	// Compare with the committed atlantis.yaml instead of returning it.
	// +optional
	check bool,
	// Return the server-side repo config (the helm chart's repoConfig) instead.
	// +optional
	server bool,
) (string, error) {
	if server {
		if check {
			return "", fmt.Errorf("--server and --check do not go together")
		}
		out, err := atlantisyaml.ServerConfig()
		return string(out), err
	}
	set, _, err := m.discover(ctx)
	if err != nil {
		return "", err
	}
	out, err := atlantisyaml.Render(set)
	if err != nil {
		return "", err
	}
	if !check {
		return string(out), nil
	}
	var committed []byte
	found, err := m.Source.Glob(ctx, atlantisyaml.FileName)
	if err != nil {
		return "", fmt.Errorf("looking for %s: %w", atlantisyaml.FileName, err)
	}
	if len(found) > 0 {
		text, err := m.Source.File(atlantisyaml.FileName).Contents(ctx)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", atlantisyaml.FileName, err)
		}
		committed = []byte(text)
	}
	if err := atlantisyaml.Check(committed, out); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s matches the layers (%d projects)\n", atlantisyaml.FileName, len(set.Layers)), nil
}
