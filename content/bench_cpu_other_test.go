//go:build !unix

package content

import "time"

// processCPU is not measured here (cpu-s/GiB reads 0).
func processCPU() time.Duration { return 0 }
