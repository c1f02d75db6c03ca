//go:build unix

package layers_test

import (
	"io/fs"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/repofs"
	"github.com/infra-flash/infra/internal/testfixture"
)

// BenchmarkDiscover10000 discovers and orders a generated 10,000-layer diamond on
// disk (the target is under 200 ms, 20 µs a layer) and, as the baseline in the same
// run, alternated, only reads the same files, once each, in one walk. The diamond
// is the hard shape: one layer reads the other 9,999 (two files of 1.6 MB), and
// 9,998 layers become ready at once when ordering. It reports the medians, the
// range of the runs and the CPU time of each side (this process, every thread).
func BenchmarkDiscover10000(b *testing.B) {
	const n = 10000
	dir := b.TempDir()
	testfixture.Write(b, dir, testfixture.Tree(testfixture.Diamond(n)...))
	syscall.Sync() // write the tree back now, not while it is being timed
	fsys := repofs.Dir(dir)
	discover := func() {
		set, err := layers.Discover(fsys, repoconfig.Defaults())
		if err != nil || len(set.Layers) != n {
			b.Fatalf("discover: %v", err)
		}
	}
	read := func() {
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				_, err = fs.ReadFile(fsys, p)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	discover() // warm both sides once, untimed
	read()
	var dw, dc, rw, rc []time.Duration
	for b.Loop() {
		w, c := timed(read)
		rw, rc = append(rw, w), append(rc, c)
		w, c = timed(discover)
		dw, dc = append(dw, w), append(dc, c)
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(testfixture.Median(dw)), "discover-ms")
	b.ReportMetric(ms(testfixture.Median(dw))*1000/n, "µs/layer")
	b.ReportMetric(ms(testfixture.Median(rw)), "read-ms")
	b.ReportMetric(ms(testfixture.Median(dw))/ms(testfixture.Median(rw)), "ratio-to-read")
	b.ReportMetric(ms(testfixture.Median(dw))/200, "budget-used")
	b.Logf("%d layers, %d runs each\n"+
		"  read the files  median %.0f ms, %s, CPU %.0f ms\n"+
		"  discover        median %.0f ms, %s, CPU %.0f ms\n"+
		"  ratio %.2f; target < 200 ms", n, len(dw),
		ms(testfixture.Median(rw)), testfixture.Spread(rw, time.Millisecond), ms(testfixture.Median(rc)), ms(testfixture.Median(dw)), testfixture.Spread(dw, time.Millisecond), ms(testfixture.Median(dc)),
		ms(testfixture.Median(dw))/ms(testfixture.Median(rw)))
}

// timed runs f and returns its wall time and the CPU time the process spent. It
// collects first, so that neither side pays for the other's garbage.
func timed(f func()) (wall, cpu time.Duration) {
	runtime.GC()
	c0, t0 := cpuTime(), time.Now()
	f()
	return time.Since(t0), cpuTime() - c0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
