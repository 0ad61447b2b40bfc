// Command guest is the wasmrun tests' WASI guest: one program with a mode
// per behaviour, so the tests compile one module instead of nine (wazero
// takes about a second per Go module).
package main

import (
	crand "crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"strconv"
	"time"
	"unsafe"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: guest MODE [ARG]")
		os.Exit(64)
	}
	switch os.Args[1] {
	case "echo": // stdin to stdout
		if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
			panic(err)
		}
	case "cat": // the file /ARG to stdout
		b, err := os.ReadFile("/" + os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
	case "write": // try to write into the file /ARG
		err := os.WriteFile("/"+os.Args[2], []byte("x"), 0o644)
		fmt.Println("write error:", err != nil)
	case "loop": // spin forever without calling anything
		n := 0
		for {
			n++
		}
	case "alloc": // ARG MiB, touched so it cannot be elided
		mib, _ := strconv.Atoi(os.Args[2])
		b := make([]byte, mib<<20)
		b[len(b)-1] = 1
		fmt.Println(len(b), b[len(b)-1])
	case "panic":
		panic("boom")
	case "exit":
		code, _ := strconv.Atoi(os.Args[2])
		os.Exit(code)
	case "trap": // a load far outside linear memory: a real wasm trap
		p := (*byte)(unsafe.Pointer(uintptr(0xFFFFFF00)))
		fmt.Println(*p)
	case "spew": // stdout without end
		for {
			os.Stdout.WriteString("0123456789abcdef")
		}
	case "env":
		fmt.Println(len(os.Environ()), len(os.Args))
	case "clock": // everything that would differ between runs on a real host
		t0 := time.Now()
		time.Sleep(time.Hour)
		var buf [8]byte
		crand.Read(buf[:])
		m := map[int]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8}
		order := ""
		for k := range m {
			order += strconv.Itoa(k)
		}
		fmt.Println(t0.UTC().Format(time.RFC3339Nano), time.Since(t0) >= time.Hour,
			mrand.Uint64(), buf, order)
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(64)
	}
}
