package dig

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/infra-flash/infra/internal/catalog"
)

// BenchmarkDigProbe200With20Hung: 200 services, 20 of which accept and never answer,
// with a 2 s timeout. The floor is the timeout itself (someone has to wait for the
// hung ones); the target is under 3 s wall, i.e. a ratio under 1.5x the floor,
// with memory bounded by the concurrency rather than the number of services.
func BenchmarkDigProbe200With20Hung(b *testing.B) {
	const domain, timeout = "bench.test", 2 * time.Second
	ca := newCA(b)
	fast := startTLS(b, ca.Leaf(b, []string{"*." + domain}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), codes())
	hung := silentPort(b)
	var services []catalog.Service
	var rules []ConnectTo
	for i := range 200 {
		s := svc(fmt.Sprintf("svc-%d", i), fmt.Sprintf("svc-%d", i), "/code/200")
		if i%10 == 0 {
			rules = append(rules, rule(s.Subdomain+"."+domain, hung))
		}
		services = append(services, s)
	}
	rules = append(rules, rule("", fast))
	opts := Options{Timeout: timeout, ConnectTo: rules, RootCAs: pool(b, ca)}

	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	runtime.GC()
	var ms runtime.MemStats
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep := Probe(context.Background(), domain, services, opts)
		if rep.Healthy() != 180 {
			b.Fatalf("%d/200 healthy, want 180", rep.Healthy())
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	var after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	wall := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(wall, "s-wall/run")
	b.ReportMetric(wall/timeout.Seconds(), "x-timeout-floor")
	b.ReportMetric(float64(after.Maxrss)/1024, "MB-peak-RSS")
	b.ReportMetric(float64(after.Maxrss-before.Maxrss)/1024, "MB-RSS-growth")
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "MB-heap-sys")
}
