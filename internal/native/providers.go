package native

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/infra-flash/infra/internal/stage"
)

// providerServers start each provider binary that validate needs once per run and
// let every layer's validate attach to it (TF_REATTACH_PROVIDERS, which terraform
// and tofu both honour), where each validate would otherwise start every provider
// twice (once for its schema, once to validate): with large providers (kubernetes,
// helm) that is most of a run's CPU. Attached providers answer the same RPCs from
// the same binary init installed, so results do not change. A provider that
// cannot serve this way (no debug mode, a crash at start) is left to terraform to
// start as usual.
type providerServers struct {
	mu      sync.Mutex
	servers []*providerServer
	env     []string
}

type providerServer struct {
	bin    string
	info   os.FileInfo
	ready  chan struct{}
	cfg    json.RawMessage // go-plugin's reattach configuration; nil when it could not start
	cmd    *exec.Cmd
	tmp    string        // the server's TMPDIR, where it makes its socket: removed with it
	exited chan struct{} // closed when the process has ended (or never started)
}

const noSharing = "INFRA_SHARE_PROVIDERS"

// providerEnv adds TF_REATTACH_PROVIDERS to a validate command in dir (absolute),
// unless the user's environment sets it or INFRA_SHARE_PROVIDERS=0 turns sharing
// off, and returns the servers it attaches to.
func (e *Executor) providerEnv(ctx context.Context, cmd stage.Command, dir string) ([]string, []*providerServer) {
	if cmd.Tool != stage.Engine || len(cmd.Args) == 0 || cmd.Args[0] != "validate" ||
		os.Getenv(noSharing) == "0" || cmd.Env[noSharing] == "0" {
		return nil, nil
	}
	for _, kv := range e.env {
		if strings.HasPrefix(kv, "TF_REATTACH_PROVIDERS=") {
			return nil, nil
		}
	}
	if r, used := e.providers.reattach(ctx, dir); r != "" {
		return []string{"TF_REATTACH_PROVIDERS=" + r}, used
	}
	return nil, nil
}

// died reports whether a server stopped (crashed) while a command used it: the
// command's answer may be about the server, not the code.
func died(used []*providerServer) bool {
	for _, s := range used {
		select {
		case <-s.exited:
			return true
		default:
		}
	}
	return false
}

// unshared is cmd run the usual way, each provider started by the engine.
func unshared(cmd stage.Command) stage.Command {
	env := map[string]string{noSharing: "0"}
	for k, v := range cmd.Env {
		env[k] = v
	}
	cmd.Env = env
	return cmd
}

// serverStartTimeout bounds how long a provider may take to say where it listens.
const serverStartTimeout = 30 * time.Second

// reattach returns TF_REATTACH_PROVIDERS for a validate in dir (absolute), or ""
// when there is nothing to attach to: the providers come from the lock file init
// left there and the binaries it installed under .terraform/providers.
func (p *providerServers) reattach(ctx context.Context, dir string) (string, []*providerServer) {
	selected, err := lockedProviders(filepath.Join(dir, ".terraform.lock.hcl"))
	if err != nil || len(selected) == 0 {
		return "", nil
	}
	cfg := map[string]json.RawMessage{}
	var used []*providerServer
	for addr, version := range selected {
		bin := installedProvider(dir, addr, version)
		if bin == "" {
			continue
		}
		if s := p.server(ctx, bin); s != nil && s.cfg != nil {
			cfg[addr] = s.cfg
			used = append(used, s)
		}
	}
	if len(cfg) == 0 {
		return "", nil
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", nil
	}
	return string(b), used
}

// server returns a server running bin once it is ready, starting one when no
// live server has the same file (hard links and symbolic links to one binary share
// a server); nil when the context ends first.
func (p *providerServers) server(ctx context.Context, bin string) *providerServer {
	info, err := os.Stat(bin)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	var s *providerServer
	for _, cand := range p.servers {
		if os.SameFile(cand.info, info) && !died([]*providerServer{cand}) {
			s = cand
			break
		}
	}
	if s == nil {
		s = &providerServer{bin: bin, info: info, ready: make(chan struct{}), exited: make(chan struct{})}
		p.servers = append(p.servers, s)
		go s.start()
	}
	p.mu.Unlock()
	select {
	case <-s.ready:
		return s
	case <-ctx.Done():
		return nil
	}
}

// start runs the provider in debug mode, where it serves until stopped and prints
// the configuration that attaches to it.
func (s *providerServer) start() {
	defer close(s.ready)
	tmp, err := os.MkdirTemp("", "infra-provider-")
	if err != nil {
		close(s.exited)
		return
	}
	cmd := exec.Command(s.bin, "-debug")
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "TMP="+tmp, "TEMP="+tmp)
	cmd.Stderr = io.Discard
	setParentDeath(cmd)
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		os.RemoveAll(tmp)
		close(s.exited)
		return
	}
	found := make(chan json.RawMessage, 1)
	go func() {
		defer close(found)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			if cfg := parseReattachLine(sc.Text()); cfg != nil && !sent {
				found <- cfg
				sent = true
			}
		}
	}()
	select {
	case cfg, ok := <-found:
		if ok && cfg != nil {
			s.cfg, s.cmd, s.tmp = cfg, cmd, tmp
			go func() { _ = cmd.Wait(); close(s.exited) }()
			return
		}
	case <-time.After(serverStartTimeout):
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	os.RemoveAll(tmp)
	close(s.exited)
}

// parseReattachLine reads the line a provider in debug mode prints,
//
//	TF_REATTACH_PROVIDERS='{"<address>":{...}}'
//
// (possibly after "export "), and returns the one provider's configuration.
func parseReattachLine(line string) json.RawMessage {
	_, rest, ok := strings.Cut(line, "TF_REATTACH_PROVIDERS='")
	if !ok {
		return nil
	}
	body, _, ok := strings.Cut(rest, "'")
	if !ok {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(body), &m) != nil || len(m) != 1 {
		return nil
	}
	for _, cfg := range m {
		return cfg
	}
	return nil
}

// stop ends every server this run started.
func (p *providerServers) stop() {
	p.mu.Lock()
	servers := p.servers
	p.servers = nil
	p.mu.Unlock()
	for _, s := range servers {
		<-s.ready
		if s.cmd == nil {
			continue
		}
		// A server holds no state worth a graceful exit (validate configures
		// nothing), and some ignore an interrupt.
		_ = s.cmd.Process.Kill()
		<-s.exited
		os.RemoveAll(s.tmp)
	}
}

// lockedProviders reads a dependency lock file: provider address -> version.
func lockedProviders(path string) (map[string]string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, diags := hclparse.NewParser().ParseHCL(src, path)
	if diags.HasErrors() {
		return nil, diags
	}
	content, _, diags := f.Body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "provider", LabelNames: []string{"address"}}}})
	if diags.HasErrors() {
		return nil, diags
	}
	out := map[string]string{}
	for _, b := range content.Blocks {
		attrs, _ := b.Body.JustAttributes()
		v, ok := attrs["version"]
		if !ok {
			continue
		}
		val, d := v.Expr.Value(nil)
		if d.HasErrors() || !val.Type().Equals(cty.String) || val.IsNull() {
			continue
		}
		out[b.Labels[0]] = val.AsString()
	}
	return out, nil
}

// installedProvider is the executable init installed for a provider version, ""
// when there is not exactly one.
func installedProvider(dir, addr, version string) string {
	if strings.Contains(addr, "..") || strings.Contains(version, "/") || strings.Contains(version, "..") {
		return ""
	}
	platform := runtime.GOOS + "_" + runtime.GOARCH
	matches, _ := filepath.Glob(filepath.Join(dir, ".terraform", "providers", filepath.FromSlash(addr), version, platform, "terraform-provider-*"))
	if len(matches) != 1 {
		return ""
	}
	return matches[0]
}
