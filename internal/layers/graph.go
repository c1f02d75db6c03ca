package layers

import (
	"container/heap"
	"strings"
)

// topoSort orders layers so that every layer comes after the layers it depends on.
// Among layers that are free to go, the lower index (then name) goes first, so the
// order matches the N. prefixes whenever the dependencies allow it.
func topoSort(ls []*Layer) ([]*Layer, error) {
	pos := make(map[string]int, len(ls))
	for i, l := range ls {
		pos[l.Dir] = i
	}
	indegree := make([]int, len(ls))
	dependents := make([][]int, len(ls))
	for i, l := range ls {
		for _, d := range l.DependsOn {
			indegree[i]++
			dependents[pos[d]] = append(dependents[pos[d]], i)
		}
	}
	ready := &layerHeap{}
	for i, l := range ls {
		if indegree[i] == 0 {
			ready.items = append(ready.items, l)
		}
	}
	heap.Init(ready)
	out := make([]*Layer, 0, len(ls))
	for ready.Len() > 0 {
		next := heap.Pop(ready).(*Layer)
		out = append(out, next)
		for _, dep := range dependents[pos[next.Dir]] {
			indegree[dep]--
			if indegree[dep] == 0 {
				heap.Push(ready, ls[dep])
			}
		}
	}
	if len(out) != len(ls) {
		left := make(map[string]int, len(ls))
		for i, l := range ls {
			left[l.Dir] = indegree[i]
		}
		return nil, inputErrorf("layer dependency cycle: %s", strings.Join(findCycle(ls, left), " -> "))
	}
	return out, nil
}

// layerHeap is a min-heap of layers by less.
type layerHeap struct{ items []*Layer }

func (h *layerHeap) Len() int           { return len(h.items) }
func (h *layerHeap) Less(i, j int) bool { return less(h.items[i], h.items[j]) }
func (h *layerHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *layerHeap) Push(x any)         { h.items = append(h.items, x.(*Layer)) }
func (h *layerHeap) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
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
