package layers_test

import (
	"io/fs"
	"testing"
	"time"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/repofs"
	"github.com/infra-flash/infra/internal/testfixture"
)

// BenchmarkDiscover10000 discovers and orders a generated 10,000-layer diamond on
// disk (the target is under 200 ms, 20 µs a layer) and, as the baseline in the same
// run, only reads the same files. The diamond is the hard shape: one layer reads
// the other 9,999, and 9,998 layers become ready at once when ordering.
func BenchmarkDiscover10000(b *testing.B) {
	const n = 10000
	dir := b.TempDir()
	testfixture.Write(b, dir, testfixture.Tree(testfixture.Diamond(n)...))
	fsys := repofs.Dir(dir)
	var discover, readOnly time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		set, err := layers.Discover(fsys, repoconfig.Defaults())
		if err != nil || len(set.Layers) != n {
			b.Fatalf("discover: %v", err)
		}
		discover += time.Since(start)

		start = time.Now()
		err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				_, err = fs.ReadFile(fsys, p)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		readOnly += time.Since(start)
	}
	ms := float64(discover.Microseconds()) / 1000 / float64(b.N)
	b.ReportMetric(ms, "discover-ms/op")
	b.ReportMetric(ms*1000/n, "µs/layer")
	b.ReportMetric(float64(readOnly.Microseconds())/1000/float64(b.N), "read-ms/op")
	b.ReportMetric(float64(discover)/float64(readOnly), "ratio-to-read")
	b.ReportMetric(ms/200, "budget-used")
}
