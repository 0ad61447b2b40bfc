package main

import (
	"io"
	"net"
	"testing"
	"time"
)

// The proxy forwards bytes both ways and holds them for the delay set on
// either end of the link.
func TestProxyDelays(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go io.Copy(c, c)
		}
	}()
	p, err := startProxies(func(int) (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") },
		[]string{echo.Addr().String()}, func(a string) (net.Conn, error) { return net.Dial("tcp", a) },
		func(string) int { return -1 })
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	c, err := net.Dial("tcp", p.listeners[0].Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rtt := func() time.Duration {
		start := time.Now()
		buf := make([]byte, 5)
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
			t.Fatalf("echo: %q %v", buf, err)
		}
		return time.Since(start)
	}
	if d := rtt(); d > 150*time.Millisecond {
		t.Fatalf("round trip without delay took %v", d)
	}
	p.setDelay(0, 100*time.Millisecond)
	if d := rtt(); d < 200*time.Millisecond || d > 2*time.Second {
		t.Fatalf("round trip with 100ms each way took %v, want about 200ms", d)
	}
	p.setDelay(0, 0)
	if d := rtt(); d > 150*time.Millisecond {
		t.Fatalf("round trip after clearing the delay took %v", d)
	}
}

func TestLastOctetNode(t *testing.T) {
	f := lastOctetNode(4)
	for ip, want := range map[string]int{"10.79.0.1": 0, "10.79.0.4": 3, "10.79.0.5": -1, "10.79.0.254": -1, "x": -1} {
		if got := f(ip); got != want {
			t.Errorf("%s: %d, want %d", ip, got, want)
		}
	}
}
