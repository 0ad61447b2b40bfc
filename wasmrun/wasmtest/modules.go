package wasmtest

// Tiny hand-assembled WASI commands for hostile-guest tests: they need no
// toolchain and compile in microseconds. Each exports a _start of type
// [] -> [] and imports nothing.

// header is the wasm magic and version 1.
var header = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

// section frames content (under 128 bytes, so its size is one LEB byte).
func section(id byte, content ...byte) []byte {
	if len(content) >= 128 {
		panic("wasmtest: section too long for the one-byte size encoding")
	}
	return append([]byte{id, byte(len(content))}, content...)
}

// command assembles a module with one function, exported as _start, whose
// body (locals and instructions, without the final end) is body; memPages
// adds a memory of that many pages when non-zero.
func command(memPages uint32, body ...byte) []byte {
	m := append([]byte(nil), header...)
	m = append(m, section(1, 0x01, 0x60, 0x00, 0x00)...) // type 0: [] -> []
	m = append(m, section(3, 0x01, 0x00)...)             // func 0 has type 0
	if memPages > 0 {
		m = append(m, section(5, append([]byte{0x01, 0x00}, uleb(memPages)...)...)...)
	}
	m = append(m, section(7, 0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00)...)
	code := append([]byte{0x00}, body...) // no locals
	code = append(code, 0x0b)             // end
	m = append(m, section(10, append([]byte{0x01, byte(len(code))}, code...)...)...)
	return m
}

func uleb(v uint32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Trap is a command whose _start executes `unreachable`.
func Trap() []byte { return command(0, 0x00) }

// Loop is a command whose _start loops forever without calling anything.
func Loop() []byte { return command(0, 0x03, 0x40, 0x0c, 0x00, 0x0b) } // loop br 0 end

// Empty is a command whose _start returns at once, printing nothing.
func Empty() []byte { return command(0) }

// BigMemory is a command that declares a memory of pages 64 KiB pages as
// its minimum, so it cannot even be instantiated under a smaller cap.
func BigMemory(pages uint32) []byte { return command(pages) }

// GrowForever is a command that grows its memory a page at a time until
// memory.grow fails, then traps: an allocation that never stops.
func GrowForever() []byte {
	return command(1,
		0x03, 0x40, // loop
		0x41, 0x01, // i32.const 1
		0x40, 0x00, // memory.grow 0
		0x41, 0x7f, // i32.const -1
		0x47,       // i32.ne
		0x0d, 0x00, // br_if 0 (grew: go on)
		0x0b, // end
		0x00, // unreachable
	)
}
