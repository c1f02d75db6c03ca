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
	s := &S3{AccessKey: "infratestaccess", Secret: "infratestsecret0123456789", Bucket: "state", Region: "us-east-1", Dir: t.TempDir()}
	if err := os.Mkdir(filepath.Join(s.Dir, s.Bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; attempt < 5; attempt++ {
		port := freePort(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		var logs bytes.Buffer
		cmd := exec.Command(bin, "--access", s.AccessKey, "--secret", s.Secret, "--port", addr, "--region", s.Region, "--quiet", "posix", s.Dir)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting versitygw: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		if waitListening(addr, exited) {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			s.Endpoint = "http://" + addr
			return s
		}
		_ = cmd.Process.Kill()
		<-exited
		t.Logf("versitygw did not start on %s: %s", addr, logs.String())
	}
	t.Fatal("versitygw did not start")
	return nil
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
