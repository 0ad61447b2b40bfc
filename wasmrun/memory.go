package wasmrun

import (
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// runAllocator backs the linear memories of one run. wazero's default grows
// a Go slice to exactly the new size, copying on nearly every memory.grow
// (a guest growing to 256 MiB page by page took seconds), and reserving the
// whole cap up front (WithMemoryCapacityFromMax) made every run pay to zero
// Limits.MemoryBytes. Here, where the OS allows, the cap is reserved as
// untouched virtual memory (see reserve) so growing costs nothing and a run
// pays for the pages it touches; elsewhere a Go slice doubles as it grows.
//
// Mappings are released by release, which Run calls once the guest can no
// longer execute: wazero frees a memory from inside proc_exit and from
// Module.Close, while guest code may still be on the stack.
type runAllocator struct {
	mu     sync.Mutex
	mapped [][]byte
}

func (a *runAllocator) Allocate(_, maxBytes uint64) experimental.LinearMemory {
	if b, err := reserve(maxBytes); err == nil {
		a.mu.Lock()
		a.mapped = append(a.mapped, b)
		a.mu.Unlock()
		return &mappedMemory{region: b}
	}
	return &doublingMemory{max: maxBytes}
}

func (a *runAllocator) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range a.mapped {
		unreserve(b)
	}
	a.mapped = nil
}

// mappedMemory is a window onto a reserved region: growing is reslicing.
type mappedMemory struct{ region []byte }

func (m *mappedMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.region)) {
		return nil
	}
	return m.region[:size:size]
}

func (m *mappedMemory) Free() {} // runAllocator.release unmaps

// doublingMemory is a Go slice whose capacity at least doubles when it must
// grow, so growth costs O(final size) in copies.
type doublingMemory struct {
	buf []byte
	max uint64
}

func (m *doublingMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		// Bytes past len were never visible to the guest, so still zero.
		m.buf = m.buf[:size]
		return m.buf
	}
	newCap := min(max(size, 2*uint64(cap(m.buf)), 1<<20), m.max)
	buf := make([]byte, size, newCap)
	copy(buf, m.buf)
	m.buf = buf
	return buf
}

func (m *doublingMemory) Free() { m.buf = nil }
