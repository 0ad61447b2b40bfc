package main

import (
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The kernel here has no sch_netem, so latency is added in user space: a
// TCP proxy per node (listening in the host namespace) that every other
// node dials instead of the node itself. Each chunk read from one side is
// written to the other side no sooner than delay after it was read, in
// order, in both directions. The delay of a link is the sum of the delays
// set on its two ends, read when a chunk arrives, so it can change while
// connections are open.
type proxies struct {
	delays    []atomic.Int64 // per node, nanoseconds
	ipToNode  func(ip string) int
	listeners []net.Listener
	wg        sync.WaitGroup
	mu        sync.Mutex
	conns     map[net.Conn]bool
	closed    bool
	bytes     atomic.Int64 // forwarded, both directions
}

// startProxies starts one proxy per target: listen[i] forwards to
// target[i], dialed with dial.
func startProxies(listen func(i int) (net.Listener, error), target []string, dial func(addr string) (net.Conn, error), ipToNode func(string) int) (*proxies, error) {
	p := &proxies{delays: make([]atomic.Int64, len(target)), ipToNode: ipToNode, conns: map[net.Conn]bool{}}
	for i := range target {
		l, err := listen(i)
		if err != nil {
			p.close()
			return nil, err
		}
		p.listeners = append(p.listeners, l)
		p.wg.Add(1)
		go p.serve(i, l, target[i], dial)
	}
	return p, nil
}

// setDelay sets the extra one-way delay on every link of node i.
func (p *proxies) setDelay(i int, d time.Duration) { p.delays[i].Store(int64(d)) }

func (p *proxies) serve(i int, l net.Listener, target string, dial func(string) (net.Conn, error)) {
	defer p.wg.Done()
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		from := -1
		if host, _, err := net.SplitHostPort(in.RemoteAddr().String()); err == nil {
			from = p.ipToNode(host)
		}
		out, err := dial(target)
		if err != nil {
			in.Close()
			continue
		}
		if !p.track(in, out) {
			return
		}
		delay := func() time.Duration {
			d := p.delays[i].Load()
			if from >= 0 {
				d += p.delays[from].Load()
			}
			return time.Duration(d)
		}
		go p.pipe(in, out, delay)
		go p.pipe(out, in, delay)
	}
}

func (p *proxies) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

type chunk struct {
	due  time.Time
	data []byte
}

// pipe copies src to dst, holding each chunk until it is due. Closing
// either side closes both.
func (p *proxies) pipe(src, dst net.Conn, delay func() time.Duration) {
	q := make(chan chunk, 256)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{due: time.Now().Add(delay()), data: buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.data); err != nil {
			break
		}
		p.bytes.Add(int64(len(c.data)))
	}
	src.Close()
	dst.Close()
	p.mu.Lock()
	delete(p.conns, src)
	delete(p.conns, dst)
	p.mu.Unlock()
	io.Copy(io.Discard, src) // unblock the reader if it still waits
}

func (p *proxies) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	for _, l := range p.listeners {
		l.Close()
	}
	p.wg.Wait()
}

// lastOctetNode maps "10.79.0.3" to node 2 (addresses are .1 to .n).
func lastOctetNode(n int) func(string) int {
	return func(ip string) int {
		k, err := strconv.Atoi(ip[strings.LastIndexByte(ip, '.')+1:])
		if err != nil || k < 1 || k > n {
			return -1
		}
		return k - 1
	}
}
