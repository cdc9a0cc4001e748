package scripted

import (
	"maps"
	"slices"

	"github.com/sparring-gym/sparring/simulator/bounded"
)

// stateCache keeps the decoded form of the states this engine wrote last,
// keyed by their exact JSON. The next turn of a conversation arrives with
// the same bytes, so it starts from a copy instead of decoding JSON again
// (decoding was half of Respond's time). The bytes are the key, so a state
// loaded from Redis after a restart, or written by another instance, is
// simply decoded: the cache can never change what a state means.
type stateCache struct {
	states *bounded.Map[string, *state]
}

// stateCacheLimit covers the active conversations of one instance (issue 9:
// 10,000 at once); a state is about 1 KiB with its key.
const stateCacheLimit = 16384

func newStateCache(limit int) *stateCache {
	return &stateCache{states: bounded.New[string, *state](limit)}
}

// load returns a private copy of the state raw encodes.
func (c *stateCache) load(raw []byte) (*state, error) {
	if c != nil {
		if st, ok := c.states.Get(string(raw)); ok {
			return st.clone(), nil
		}
	}
	return decodeState(raw)
}

// store remembers st as what raw decodes to. st must not change afterwards.
func (c *stateCache) store(raw []byte, st *state) {
	if c != nil {
		c.states.Put(string(raw), st)
	}
}

// clone copies everything st refers to, so the copy can change freely.
func (st *state) clone() *state {
	c := *st
	c.Counts = maps.Clone(st.Counts)
	c.Used = maps.Clone(st.Used)
	c.Demands = slices.Clone(st.Demands)
	c.Revealed = slices.Clone(st.Revealed)
	c.Pending = slices.Clone(st.Pending)
	return &c
}
