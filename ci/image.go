package main

import (
	"github.com/infra-flash/infra/ci/internal/dagger"
	"github.com/infra-flash/infra/internal/toolchain"
)

// AtlantisImage builds the Atlantis server image the generated atlantis.yaml's
// workflow runs in: the pinned Atlantis release plus the infra CLI and the pinned
// terraform, tofu and tflint. Publish it with
// `dagger call atlantis-image publish --address REGISTRY/NAME:TAG`.
func (m *Infra) AtlantisImage(
	// The infra CLI's source: this module's own repository (not the checked one),
	// whose root go.mod builds cmd/infra. The module's source directory is ci/,
	// whose go.mod the engine rewrites for the SDK, so it cannot be the build root.
	// +defaultPath="/"
	// +ignore=["*", "!go.mod", "!go.sum", "!cmd/**/*.go", "!internal/**/*.go", "!internal/toolchain/versions.env", "**/*_test.go", "**/testdata"]
	cliSource *dagger.Directory,
) *dagger.Container {
	infra := dag.Container().From(toolchain.GoImage).
		WithMountedCache("/go/pkg/mod", dag.CacheVolume("infra-go-mod")).
		WithMountedCache("/root/.cache/go-build", dag.CacheVolume("infra-go-build")).
		WithMountedDirectory("/src", cliSource).
		WithWorkdir("/src").
		WithEnvVariable("CGO_ENABLED", "0").
		WithExec([]string{"go", "build", "-trimpath", "-o", "/out/infra", "./cmd/infra"}).
		File("/out/infra")
	ctr := dag.Container().From(toolchain.AtlantisImage()).
		WithFile(toolchain.ImageBinDir+"/infra", infra)
	for _, tool := range toolchain.Pinned().AtlantisTools() {
		from := dag.Container().From(tool.Image).File(tool.From)
		ctr = ctr.WithFile(tool.Path, from).WithEnvVariable(tool.Env, tool.Path)
	}
	return ctr.WithEnvVariable("PATH", toolchain.ImageBinDir+":${PATH}", dagger.ContainerWithEnvVariableOpts{Expand: true})
}
