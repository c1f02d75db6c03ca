package layers

import (
	"sort"
	"strings"
)

// topoSort orders layers so that every layer comes after the layers it depends on.
// Among layers that are free to go, the lower index (then name) goes first, so the
// order matches the N. prefixes whenever the dependencies allow it.
func topoSort(ls []*Layer) ([]*Layer, error) {
	byDir := make(map[string]*Layer, len(ls))
	indegree := make(map[string]int, len(ls))
	dependents := map[string][]string{}
	for _, l := range ls {
		byDir[l.Dir] = l
	}
	for _, l := range ls {
		indegree[l.Dir] += 0
		for _, d := range l.DependsOn {
			indegree[l.Dir]++
			dependents[d] = append(dependents[d], l.Dir)
		}
	}
	var ready []*Layer
	for _, l := range ls {
		if indegree[l.Dir] == 0 {
			ready = append(ready, l)
		}
	}
	out := make([]*Layer, 0, len(ls))
	for len(ready) > 0 {
		sort.Slice(ready, func(i, j int) bool { return less(ready[i], ready[j]) })
		next := ready[0]
		ready = ready[1:]
		out = append(out, next)
		for _, dep := range dependents[next.Dir] {
			indegree[dep]--
			if indegree[dep] == 0 {
				ready = append(ready, byDir[dep])
			}
		}
	}
	if len(out) != len(ls) {
		return nil, inputErrorf("layer dependency cycle: %s", strings.Join(findCycle(ls, indegree), " -> "))
	}
	return out, nil
}

func less(a, b *Layer) bool {
	if a.Index != b.Index {
		return a.Index < b.Index
	}
	return a.Dir < b.Dir
}

// findCycle walks dependencies among the layers left unsorted until one repeats,
// and returns that loop with its first layer named again at the end.
func findCycle(ls []*Layer, indegree map[string]int) []string {
	byDir := map[string]*Layer{}
	var start *Layer
	for _, l := range ls {
		byDir[l.Dir] = l
		if indegree[l.Dir] > 0 && (start == nil || less(l, start)) {
			start = l
		}
	}
	pos := map[string]int{}
	var walk []string
	for cur := start; cur != nil; {
		if i, seen := pos[cur.Dir]; seen {
			return append(walk[i:], cur.Dir)
		}
		pos[cur.Dir] = len(walk)
		walk = append(walk, cur.Dir)
		var next *Layer
		for _, d := range cur.DependsOn { // sorted, so the reported cycle is stable
			if indegree[d] > 0 {
				next = byDir[d]
				break
			}
		}
		cur = next
	}
	return walk
}
