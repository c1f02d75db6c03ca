package digtest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// childEnv asks a test binary, through ServeIfChild, to be the server of StartChild.
const childEnv = "INFRA_DIGTEST_SERVE"

// ServeIfChild makes this test binary the server StartChild asked for, and exits
// when its parent closes stdin; otherwise it returns at once. Call it first in the
// package's TestMain.
func ServeIfChild() {
	names := os.Getenv(childEnv)
	if names == "" {
		return
	}
	if err := serveChild(strings.Split(names, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "digtest child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func serveChild(names []string) error {
	ca, err := newCA()
	if err != nil {
		return err
	}
	cert, err := ca.leaf(names, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: Codes(), ErrorLog: discardLog, ReadHeaderTimeout: 10 * time.Second}
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	if _, err := fmt.Printf("%d\n%s", l.Addr().(*net.TCPAddr).Port, ca.PEM); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it, or dies
	return srv.Close()
}

// StartChild serves Codes over HTTPS for names on 127.0.0.1 from a child process
// (this test binary again, see ServeIfChild), so that what the test measures of
// its own process (open files, memory) is the client's alone. It returns the port
// and the PEM of the CA that signed the server's certificate; the child stops
// when the test ends.
func StartChild(t testing.TB, names ...string) (port string, caPEM []byte) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(names, ","))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	type ready struct {
		port string
		pem  []byte
		err  error
	}
	got := make(chan ready, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, err := r.ReadString('\n')
		if err != nil {
			got <- ready{err: fmt.Errorf("the child printed no port (%v): call digtest.ServeIfChild first in TestMain", err)}
			return
		}
		var pem bytes.Buffer
		for !bytes.Contains(pem.Bytes(), []byte("-----END CERTIFICATE-----\n")) {
			l, err := r.ReadBytes('\n')
			pem.Write(l)
			if err != nil {
				got <- ready{err: fmt.Errorf("the child's CA certificate: %v", err)}
				return
			}
		}
		got <- ready{port: strings.TrimSpace(line), pem: pem.Bytes()}
	}()
	select {
	case r := <-got:
		require.NoError(t, r.err)
		return r.port, r.pem
	case <-time.After(30 * time.Second):
		require.FailNow(t, "the child server did not start within 30s")
	}
	return "", nil
}
