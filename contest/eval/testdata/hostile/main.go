// Command hostile is a misbehaving contest evaluator for the tests. The
// evaluator ABI passes no arguments, so it picks its misbehaviour from the
// content of /model.
package main

import (
	"fmt"
	"os"
	"unsafe"
)

func main() {
	mode, err := os.ReadFile("/model")
	if err != nil {
		os.Exit(1)
	}
	switch string(mode) {
	case "loop":
		for {
		}
	case "alloc": // keep allocating and holding memory
		var keep [][]byte
		for {
			keep = append(keep, make([]byte, 16<<20))
		}
	case "trap":
		p := (*byte)(unsafe.Pointer(uintptr(0xFFFFFF00)))
		fmt.Println(*p)
	case "panic":
		panic("hostile")
	case "spew":
		for {
			fmt.Print("0.5")
		}
	case "words":
		fmt.Println("score: 0.9")
	case "two":
		fmt.Println("0.5\n0.6")
	case "nan":
		fmt.Println("NaN")
	case "huge":
		fmt.Println("1e300")
	case "empty":
	case "ok":
		fmt.Println("0.8125")
	default:
		os.Exit(1)
	}
}
