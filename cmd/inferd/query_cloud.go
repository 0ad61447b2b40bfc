package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/inferd/inferd/ledger/compute"
)

// containerRows adds a container job's and a lease's fields to 'query job'.
func containerRows(w *tabwriter.Writer, j compute.Job) {
	if j.Kind == compute.KindWasm {
		return
	}
	kv(w, "kind", j.Kind, "price", formatAmount(j.Price), "resources", fmt.Sprintf("%d.%03d cpu, %d bytes", j.MilliCPU/1000, j.MilliCPU%1000, j.MemoryBytes),
		"assigned", fmtHeight(j.Assigned))
	if j.Failure != "" {
		kv(w, "failure", j.Failure, "exit code", j.ExitCode)
	}
	if j.Outputs != "" {
		kv(w, "outputs", j.Outputs+"  (inferd job get ID -o DIR)")
	}
	if j.Logs != "" {
		kv(w, "logs", j.Logs+"  (inferd job logs ID)")
	}
	l := j.Lease
	if l == nil {
		return
	}
	kv(w, "price per block", formatAmount(l.PricePerBlock), "max per block", formatAmount(l.MaxPerBlock), "duration", fmt.Sprintf("%d blocks", l.DurationBlocks))
	if l.Started > 0 {
		kv(w, "started", fmtHeight(l.Started), "ends", fmtHeight(l.End), "charged blocks", l.ChargedBlocks,
			"healthy blocks", l.HealthyBlocks, "free (unhealthy) blocks", l.FreeBlocks, "last health", l.LastHealth)
	}
	if l.Ended > 0 {
		kv(w, "ended", fmtHeight(l.Ended), "end reason", l.EndReason)
	}
	for _, a := range l.Allowed {
		kv(w, "allowed", a)
	}
}
