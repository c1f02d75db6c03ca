package testfixture

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/infra-flash/infra/internal/toolchain"
)

// S3 is a real S3-compatible server (versitygw, posix backend) on loopback, with
// one empty bucket, for tests of remote state and locking.
type S3 struct {
	Endpoint            string
	AccessKey, Secret   string
	Bucket, Region, Dir string

	bin    string
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartS3 starts versitygw on a free loopback port with its data in a temporary
// directory and stops it when the test ends. It fails (never skips) when versitygw
// is missing: scripts/test installs it.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	bin, err := toolchain.FindTool("versitygw")
	if err != nil {
		t.Fatalf("%v (scripts/setup-tools builds it)", err)
	}
	s := &S3{AccessKey: "infratestaccess", Secret: "infratestsecret0123456789", Bucket: "state", Region: "us-east-1", Dir: t.TempDir(), bin: bin}
	if err := os.Mkdir(filepath.Join(s.Dir, s.Bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	for attempt := 0; attempt < 5; attempt++ {
		s.addr = "127.0.0.1:" + strconv.Itoa(freePort(t))
		if logs, ok := s.start(t); !ok {
			t.Logf("versitygw did not start on %s: %s", s.addr, logs)
			continue
		}
		s.Endpoint = "http://" + s.addr
		return s
	}
	t.Fatal("versitygw did not start")
	return nil
}

func (s *S3) start(t testing.TB) (string, bool) {
	var logs bytes.Buffer
	cmd := exec.Command(s.bin, "--access", s.AccessKey, "--secret", s.Secret, "--port", s.addr, "--region", s.Region, "--quiet", "posix", s.Dir)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting versitygw: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	if !waitListening(s.addr, exited) {
		s.Stop()
		return logs.String(), false
	}
	return "", true
}

// PID is the server process's, for a test that has it killed from elsewhere (a
// provisioner, mid-apply).
func (s *S3) PID() int { return s.cmd.Process.Pid }

// Stop kills the server, as a crash or a network cut would stop it answering.
func (s *S3) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Restart starts the server again on the same address and data, after Stop or
// after it was killed.
func (s *S3) Restart(t testing.TB) {
	t.Helper()
	if s.cmd != nil {
		s.Stop()
	}
	if logs, ok := s.start(t); !ok {
		t.Fatalf("versitygw did not restart on %s: %s", s.addr, logs)
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListening(addr string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// BackendConfig is the content of a -backend-config file for this server: every
// setting but the key, which each layer's backend block carries.
func (s *S3) BackendConfig() string {
	return fmt.Sprintf(`bucket = %q
region = %q
endpoints = { s3 = %q }
use_path_style              = true
skip_credentials_validation = true
skip_requesting_account_id  = true
skip_region_validation      = true
skip_metadata_api_check     = true
use_lockfile                = true
access_key = %q
secret_key = %q
`, s.Bucket, s.Region, s.Endpoint, s.AccessKey, s.Secret)
}

// Object returns the content of an object of the bucket as the server keeps it on
// disk, or nil when there is none.
func (s *S3) Object(t testing.TB, key string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(s.Dir, s.Bucket, filepath.FromSlash(key)))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}
