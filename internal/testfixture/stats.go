package testfixture

import (
	"fmt"
	"slices"
	"time"
)

// Median is the middle of the runs (the mean of the two middle ones for an even count).
func Median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Spread is the range of the runs, rounded to unit, and its widest side around the
// median in percent of it: "1.24s–1.35s (±6%)".
func Spread(ds []time.Duration, unit time.Duration) string {
	m := Median(ds)
	lo, hi := slices.Min(ds), slices.Max(ds)
	return fmt.Sprintf("%v–%v (±%.0f%%)", lo.Round(unit), hi.Round(unit), 100*float64(max(hi-m, m-lo))/float64(m))
}
