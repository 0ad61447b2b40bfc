package ledger

import (
	"bytes"
	"encoding/binary"
	"sort"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger/store"
)

// Event is a typed record of something a transaction or block did, returned
// in results and served by the API.
type Event struct {
	Type  string            `json:"type"`
	Attrs map[string]string `json:"attrs,omitempty"`
}

// Context is what a module sees while the ledger runs: the block being
// applied and a read-write view of the state. Writes go to a cache that the
// ledger commits, or drops if the transaction fails.
type Context struct {
	ChainID  string
	Height   uint64
	Time     int64 // block time, unix nanoseconds
	Proposer keys.Address
	kv       *cache
	events   []Event
	readOnly bool
}

// Get returns the value at key, or nil when absent.
func (c *Context) Get(key []byte) []byte {
	v, _ := c.kv.get(key)
	return v
}

// Has reports whether key is present.
func (c *Context) Has(key []byte) bool {
	_, ok := c.kv.get(key)
	return ok
}

// Set writes key. Writing in a read-only (query) context is a bug.
func (c *Context) Set(key, value []byte) {
	if c.readOnly {
		panic("ledger: write in a read-only context")
	}
	c.kv.set(key, value)
}

// Delete removes key.
func (c *Context) Delete(key []byte) {
	if c.readOnly {
		panic("ledger: write in a read-only context")
	}
	c.kv.del(key)
}

// Iterate visits keys with prefix in ascending order until fn returns false.
func (c *Context) Iterate(prefix []byte, fn func(key, value []byte) bool) {
	c.kv.iterate(prefix, fn)
}

// GetObj decodes the value at key into v and reports whether it was present.
func (c *Context) GetObj(key []byte, v any) bool {
	raw := c.Get(key)
	if raw == nil {
		return false
	}
	if err := codec.UnmarshalTrusted(raw, v); err != nil {
		panic(storeFailure{err})
	}
	return true
}

// SetObj encodes v canonically and writes it at key.
func (c *Context) SetObj(key []byte, v any) { c.Set(key, codec.MustMarshal(v)) }

// GetU64 reads an 8-byte big-endian counter or amount; absent (or not 8
// bytes) reads as 0.
func (c *Context) GetU64(key []byte) uint64 {
	v := c.Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// SetU64 writes v as 8 bytes big-endian; 0 deletes the key, so that an
// emptied balance or counter leaves nothing in the state.
func (c *Context) SetU64(key []byte, v uint64) {
	if v == 0 {
		c.Delete(key)
		return
	}
	c.Set(key, binary.BigEndian.AppendUint64(nil, v))
}

// Emit records an event.
func (c *Context) Emit(typ string, kv ...string) {
	e := Event{Type: typ}
	if len(kv) > 0 {
		e.Attrs = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			e.Attrs[kv[i]] = kv[i+1]
		}
	}
	c.events = append(c.events, e)
}

// child returns a context whose writes can be committed into c or dropped.
func (c *Context) child() *Context {
	return &Context{ChainID: c.ChainID, Height: c.Height, Time: c.Time, Proposer: c.Proposer, kv: newCache(c.kv), readOnly: c.readOnly}
}

// commitInto moves the child's writes and events into its parent.
func (c *Context) commitInto(parent *Context) {
	c.kv.writeTo(parent.kv)
	parent.events = append(parent.events, c.events...)
}

// storeFailure carries an I/O error out of module code; ApplyBlock turns it
// back into an error. The store failing is not a protocol outcome.
type storeFailure struct{ err error }

// source is what a cache reads through to.
type source interface {
	get(key []byte) ([]byte, bool)
	iterate(prefix []byte, fn func(k, v []byte) bool)
}

// storeSource adapts a committed store version.
type storeSource struct{ r store.Reader }

func (s storeSource) get(key []byte) ([]byte, bool) {
	v, ok, err := s.r.Get(key)
	if err != nil {
		panic(storeFailure{err})
	}
	return v, ok
}

func (s storeSource) iterate(prefix []byte, fn func(k, v []byte) bool) {
	if err := s.r.Iterate(prefix, fn); err != nil {
		panic(storeFailure{err})
	}
}

// emptySource is the state before genesis.
type emptySource struct{}

func (emptySource) get([]byte) ([]byte, bool)              { return nil, false }
func (emptySource) iterate([]byte, func(k, v []byte) bool) {}

// cache is a write overlay: a map of pending writes over a source.
type cache struct {
	parent source
	writes map[string]entry
}

type entry struct {
	value []byte
	del   bool
}

func newCache(parent source) *cache { return &cache{parent: parent, writes: map[string]entry{}} }

func (c *cache) get(key []byte) ([]byte, bool) {
	if e, ok := c.writes[string(key)]; ok {
		if e.del {
			return nil, false
		}
		return e.value, true
	}
	return c.parent.get(key)
}

func (c *cache) set(key, value []byte) { c.writes[string(key)] = entry{value: value} }
func (c *cache) del(key []byte)        { c.writes[string(key)] = entry{del: true} }

func (c *cache) writeTo(p *cache) {
	for k, e := range c.writes {
		p.writes[k] = e
	}
}

// iterate merges the overlay with the parent in key order.
func (c *cache) iterate(prefix []byte, fn func(k, v []byte) bool) {
	var mine []string
	for k := range c.writes {
		if len(k) >= len(prefix) && k[:len(prefix)] == string(prefix) {
			mine = append(mine, k)
		}
	}
	sort.Strings(mine)
	type kv struct {
		k string
		v []byte
	}
	var base []kv
	c.parent.iterate(prefix, func(k, v []byte) bool {
		base = append(base, kv{string(k), bytes.Clone(v)})
		return true
	})
	i, j := 0, 0
	for i < len(base) || j < len(mine) {
		var k string
		var v []byte
		switch {
		case j >= len(mine) || (i < len(base) && base[i].k < mine[j]):
			k, v = base[i].k, base[i].v
			i++
		default:
			if i < len(base) && base[i].k == mine[j] {
				i++
			}
			k = mine[j]
			e := c.writes[k]
			j++
			if e.del {
				continue
			}
			v = e.value
		}
		if !fn([]byte(k), v) {
			return
		}
	}
}

// changes returns the overlay as sorted store changes.
func (c *cache) changes() []store.Change {
	ks := make([]string, 0, len(c.writes))
	for k := range c.writes {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	out := make([]store.Change, len(ks))
	for i, k := range ks {
		e := c.writes[k]
		out[i] = store.Change{Key: []byte(k), Value: e.value, Delete: e.del}
	}
	return out
}

// DecodeStored decodes a value this node wrote to its own store.
func DecodeStored(raw []byte, v any) error { return codec.UnmarshalTrusted(raw, v) }

// Branch returns a context whose writes and events stay apart from c until
// commit is called; a branch that is dropped leaves c untouched. Use it for
// trial runs (checking that a governance proposal would apply) and for
// groups of changes that must apply all or nothing.
func (c *Context) Branch() (branch *Context, commit func()) {
	b := c.child()
	return b, func() { b.commitInto(c) }
}
