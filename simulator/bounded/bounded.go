// Package bounded holds a size-capped map for caches on the turn path.
package bounded

import "sync"

// Map is a map safe for concurrent use that empties itself when it reaches
// its limit: cheaper than an LRU, and a stream of unique keys costs at most
// limit entries.
type Map[K comparable, V any] struct {
	mu    sync.Mutex
	limit int
	m     map[K]V
}

// New returns an empty Map holding at most limit entries.
func New[K comparable, V any](limit int) *Map[K, V] {
	return &Map[K, V]{limit: limit, m: make(map[K]V)}
}

// Get returns the value stored under k.
func (b *Map[K, V]) Get(k K) (V, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[k]
	return v, ok
}

// Put stores v under k, first emptying the map if it is full.
func (b *Map[K, V]) Put(k K, v V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.m) >= b.limit {
		clear(b.m)
	}
	b.m[k] = v
}

// Len is the number of entries.
func (b *Map[K, V]) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}
