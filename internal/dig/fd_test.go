package dig

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/catalog"
	"github.com/infra-flash/infra/internal/dig/digtest"
)

// fdSlack is what the process may hold open besides one connection per probe
// running: the file listing itself, a dial racing a close.
const fdSlack = 8

// TestOpenFilesBoundedByConcurrency: 1,000 services, each its own host name, all
// answering 200 from a server in another process: the probing process never
// holds more than --concurrency connections (plus a few files) open, and with
// its limit of open files just above that, every service is still healthy.
func TestOpenFilesBoundedByConcurrency(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 TLS handshakes")
	}
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd to count open files")
	}
	const domain, n, concurrency = "fd.test", 1000, 16
	p, caPEM := digtest.StartChild(t, "*."+domain)
	roots, err := CertPool("child CA", caPEM)
	require.NoError(t, err)
	services := make([]catalog.Service, n)
	for i := range services {
		services[i] = svc(fmt.Sprintf("svc-%d", i), fmt.Sprintf("svc-%d", i), "/code/200")
	}
	opts := Options{Timeout: 10 * time.Second, Concurrency: concurrency, ConnectTo: []ConnectTo{rule("", p)}, RootCAs: roots}

	base := openFiles(t)
	var s sampler
	opts.OnResult = func(Result) { s.sample(t) }
	stop := s.every(t, 2*time.Millisecond)
	rep := Probe(context.Background(), domain, services, opts)
	stop()
	require.Equal(t, n, rep.Healthy(), firstUnhealthy(rep))
	t.Logf("%d services at concurrency %d in %s: open files %d before, at most %d during (bound %d); heap in use at most %.1f MB",
		n, concurrency, rep.Duration.Round(time.Millisecond), base, s.peakFiles, base+concurrency+fdSlack, float64(s.peakHeap)/(1<<20))
	assert.LessOrEqual(t, s.peakFiles-base, concurrency+fdSlack, "open files grow with the concurrency, not the services")
	assert.LessOrEqual(t, openFiles(t), base+1, "nothing stays open after the run")

	// ulimit -n just above the bound: no probe fails for want of a file.
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	orig := lim
	lim.Cur = uint64(base + concurrency + 2*fdSlack)
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	defer func() { require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig)) }()
	opts.OnResult = nil
	rep = Probe(context.Background(), domain, services, opts)
	assert.Equal(t, n, rep.Healthy(), "with ulimit -n %d: %s", lim.Cur, firstUnhealthy(rep))
}

// openFiles counts the process's open file descriptors (the listing's own included).
func openFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(entries)
}

// sampler keeps the peaks of open files and heap while a run goes on.
type sampler struct {
	mu                  sync.Mutex
	peakFiles           int
	peakHeap, heapCheck uint64
}

func (s *sampler) sample(t *testing.T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peakFiles = max(s.peakFiles, openFiles(t))
	if s.heapCheck++; s.heapCheck%25 == 0 { // ReadMemStats stops the world: now and then
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.peakHeap = max(s.peakHeap, ms.HeapInuse)
	}
}

// every samples until the returned stop is called.
func (s *sampler) every(t *testing.T, d time.Duration) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(d)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				s.sample(t)
			}
		}
	}()
	return func() { close(done); <-finished }
}

func firstUnhealthy(rep *Report) string {
	for _, r := range rep.Results {
		if !r.Healthy {
			return fmt.Sprintf("%d unhealthy, first %s: %s", len(rep.Results)-rep.Healthy(), r.Service.ID, r.Status())
		}
	}
	return ""
}
