// Package testmirror serves locally built providers over Terraform's provider
// network mirror protocol, on HTTPS at 127.0.0.1 with a throwaway certificate
// authority, so tests exercise the path real users take (versions announced by a
// registry-like server, zip packages, checksums, committed lock files) offline.
// terraform and tofu trust the authority through SSL_CERT_FILE.
package testmirror

import (
	"archive/zip"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/dirhash"

	"github.com/infra-flash/infra/internal/toolchain"
)

// Provider is one provider version the mirror serves, packaged from a binary.
type Provider struct {
	Type    string // "null"; the namespace is hashicorp
	Version string // the version the mirror announces
	Binary  string // the provider executable to package
}

// Package is a served zip and its checksums as a lock file records them.
type Package struct {
	Zip []byte
	ZH  string // "zh:" + the zip's SHA-256
	H1  string // "h1:" + the hash of the files in the zip
}

// Mirror is a running network mirror.
type Mirror struct {
	URL    string // https://127.0.0.1:PORT/
	CAFile string // PEM of the authority that signed the server's certificate

	server   *httptest.Server
	packages map[string]Package // "type/version"
	versions map[string][]string
}

// LocalBuild returns the provider the setup script built into its filesystem
// mirror, at the version it is labelled with there. Call it before
// testfixture.Tools, which moves the cache directory.
func LocalBuild(t testing.TB, typ string) Provider {
	t.Helper()
	platform := runtime.GOOS + "_" + runtime.GOARCH
	dir := filepath.Join(toolchain.DefaultMirror(), "registry.terraform.io", "hashicorp", typ)
	versions, err := os.ReadDir(dir)
	if err != nil || len(versions) == 0 {
		t.Fatalf("no %s provider in %s: run scripts/setup-tools", typ, toolchain.DefaultMirror())
	}
	v := versions[len(versions)-1].Name()
	bin := filepath.Join(dir, v, platform, "terraform-provider-"+typ+"_v"+v)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no %s provider for %s: %v", typ, platform, err)
	}
	return Provider{Type: typ, Version: v, Binary: bin}
}

// Start serves the providers until the test ends.
func Start(t testing.TB, providers ...Provider) *Mirror {
	t.Helper()
	m := &Mirror{packages: map[string]Package{}, versions: map[string][]string{}}
	for _, p := range providers {
		pkg, err := packageOf(p)
		if err != nil {
			t.Fatalf("packaging %s %s: %v", p.Type, p.Version, err)
		}
		m.packages[p.Type+"/"+p.Version] = pkg
		m.versions[p.Type] = append(m.versions[p.Type], p.Version)
	}
	cert, caPEM, err := certificates()
	if err != nil {
		t.Fatal(err)
	}
	m.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(m.CAFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	m.server = httptest.NewUnstartedServer(http.HandlerFunc(m.serve))
	m.server.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	m.server.StartTLS()
	t.Cleanup(m.server.Close)
	m.URL = m.server.URL + "/"
	return m
}

// Close stops the server: installing from it then fails as with no network.
func (m *Mirror) Close() { m.server.Close() }

// Package returns the served package of a provider version.
func (m *Mirror) Package(typ, version string) Package { return m.packages[typ+"/"+version] }

// Use points terraform and tofu at the mirror, as a user's CLI configuration and
// certificate bundle would: TF_CLI_CONFIG_FILE and SSL_CERT_FILE for the test.
func (m *Mirror) Use(t testing.TB) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "mirror.tfrc")
	body := fmt.Sprintf("provider_installation {\n  network_mirror {\n    url = %q\n  }\n}\n", m.URL)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_CLI_CONFIG_FILE", cfg)
	t.Setenv("SSL_CERT_FILE", m.CAFile)
}

// LockFile is a dependency lock file entry for a provider version with the given
// hashes, for host registry.terraform.io (terraform) or registry.opentofu.org (tofu).
func LockFile(host, typ, version, constraints string, hashes ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# This file is maintained automatically by \"init\".\n# Manual edits may be lost in future updates.\n\n")
	fmt.Fprintf(&b, "provider %q {\n  version     = %q\n  constraints = %q\n  hashes = [\n", host+"/hashicorp/"+typ, version, constraints)
	sorted := append([]string(nil), hashes...)
	sort.Strings(sorted)
	for _, h := range sorted {
		fmt.Fprintf(&b, "    %q,\n", h)
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}

// serve answers the network mirror protocol for any registry host:
// HOST/hashicorp/TYPE/index.json, HOST/hashicorp/TYPE/VERSION.json and the zips.
func (m *Mirror) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[1] != "hashicorp" {
		http.NotFound(w, r)
		return
	}
	typ, file := parts[2], parts[3]
	platform := runtime.GOOS + "_" + runtime.GOARCH
	switch {
	case file == "index.json":
		versions, ok := m.versions[typ]
		if !ok {
			http.NotFound(w, r)
			return
		}
		out := map[string]map[string]struct{}{"versions": {}}
		for _, v := range versions {
			out["versions"][v] = struct{}{}
		}
		writeJSON(w, out)
	case strings.HasSuffix(file, ".json"):
		version := strings.TrimSuffix(file, ".json")
		pkg, ok := m.packages[typ+"/"+version]
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, map[string]any{"archives": map[string]any{platform: map[string]any{
			"url": zipName(typ, version, platform), "hashes": []string{pkg.ZH},
		}}})
	case strings.HasSuffix(file, ".zip"):
		for key, pkg := range m.packages {
			typ2, version, _ := strings.Cut(key, "/")
			if typ2 == typ && file == zipName(typ, version, platform) {
				w.Header().Set("Content-Type", "application/zip")
				_, _ = w.Write(pkg.Zip)
				return
			}
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

func zipName(typ, version, platform string) string {
	return fmt.Sprintf("terraform-provider-%s_%s_%s.zip", typ, version, platform)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

var (
	packagesMu sync.Mutex
	packaged   = map[Provider]Package{} // zipping a provider takes a moment: once per test binary
)

// packageOf zips the binary as the registry packages a release (the executable
// terraform-provider-TYPE_vVERSION at the root) and computes its checksums.
func packageOf(p Provider) (Package, error) {
	packagesMu.Lock()
	defer packagesMu.Unlock()
	if pkg, ok := packaged[p]; ok {
		return pkg, nil
	}
	bin, err := os.ReadFile(p.Binary)
	if err != nil {
		return Package{}, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "terraform-provider-" + p.Type + "_v" + p.Version, Method: zip.Store}
	hdr.SetMode(0o755)
	hdr.Modified = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	f, err := zw.CreateHeader(hdr)
	if err != nil {
		return Package{}, err
	}
	if _, err := f.Write(bin); err != nil {
		return Package{}, err
	}
	if err := zw.Close(); err != nil {
		return Package{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	pkg := Package{Zip: buf.Bytes(), ZH: "zh:" + hex.EncodeToString(sum[:])}
	// h1: is dirhash's Hash1 over the files in the zip, as terraform computes it.
	tmp, err := os.CreateTemp("", "provider-*.zip")
	if err != nil {
		return Package{}, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(pkg.Zip); err != nil {
		tmp.Close()
		return Package{}, err
	}
	tmp.Close()
	if pkg.H1, err = dirhash.HashZip(tmp.Name(), dirhash.Hash1); err != nil {
		return Package{}, err
	}
	packaged[p] = pkg
	return pkg, nil
}

// certificates makes a certificate authority and a server certificate for
// 127.0.0.1 signed by it.
func certificates() (tls.Certificate, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "infra test mirror CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert := tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}
