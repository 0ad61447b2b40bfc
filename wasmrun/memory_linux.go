package wasmrun

import (
	"errors"
	"syscall"
)

// reserve maps n bytes of zeroed, private memory without committing it
// (MAP_NORESERVE): pages cost nothing until the guest touches them.
func reserve(n uint64) ([]byte, error) {
	if n == 0 || n > maxMemoryBytes {
		return nil, errors.New("wasmrun: no reservation needed")
	}
	return syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
}

func unreserve(b []byte) { _ = syscall.Munmap(b) }
