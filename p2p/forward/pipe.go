package forward

import (
	"io"
	"sync"
)

// bufSize is the copy buffer: large enough that a 1 MiB body moves in few
// yamux frames (yamux splits writes at its own frame size anyway).
const bufSize = 256 << 10

var bufs = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// halfCloser is a connection whose write side closes alone (a TCP
// connection, a libp2p stream), so that a request's end reaches the other
// side while its answer still flows back.
type halfCloser interface {
	io.ReadWriteCloser
	CloseWrite() error
}

// pipe copies a to b and b to a until both directions end, then closes
// both.
func pipe(a, b halfCloser) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		copyHalf(b, a)
	}()
	copyHalf(a, b)
	wg.Wait()
	a.Close()
	b.Close()
}

// copyHalf copies src to dst, then closes dst's write side. A failed
// write or read ends both directions (closing dst stops the other copy's
// read of it too).
func copyHalf(dst, src halfCloser) {
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	if _, err := io.CopyBuffer(onlyWriter{dst}, onlyReader{src}, *bp); err != nil {
		dst.Close()
		src.Close()
		return
	}
	dst.CloseWrite()
}

// onlyReader and onlyWriter hide WriterTo/ReaderFrom so CopyBuffer uses the pooled
// buffer instead of small internal ones.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }
