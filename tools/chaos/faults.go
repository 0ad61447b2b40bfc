package main

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// scope is whom a perturbation touches.
type scope struct {
	apply []int // the nodes it is applied to (and that must recover)
	avoid []int // the nodes the load keeps off while it lasts
	// still: the nodes that must not commit while it lasts (cut off from a
	// quorum); chainStill: the whole chain must not (no quorum anywhere).
	still      []int
	chainStill bool
}

func (s scope) stands() bool { return s.chainStill || len(s.still) > 0 }

// quorum reports whether validators out of all (equal stakes, as in a
// devnet) are more than two thirds.
func quorum(validators, all int) bool { return 3*validators > 2*all }

func (r *runner) scopeOf(p *Perturbation) scope {
	idx := r.indexes(p.Nodes)
	v := r.m.Validators
	switch p.Op {
	case OpDisconnect:
		return scope{apply: idx, avoid: idx, still: idx}
	case OpKill, OpPause, OpRestart:
		return scope{apply: idx, avoid: idx, chainStill: !quorum(v-r.validatorsOf(idx), v)}
	case OpPartition:
		in := map[int]bool{}
		for _, i := range idx {
			in[i] = true
		}
		var rest []int
		for i := range r.c.names {
			if !in[i] {
				rest = append(rest, i)
			}
		}
		s := scope{apply: append(append([]int(nil), idx...), rest...)}
		for _, side := range [][]int{idx, rest} {
			if !quorum(r.validatorsOf(side), v) {
				s.still = append(s.still, side...)
				s.avoid = append(s.avoid, side...)
			}
		}
		return s
	}
	return scope{apply: idx, avoid: idx} // loss, latency: slower, not stopped
}

func (r *runner) validatorsOf(idx []int) int {
	n := 0
	for _, i := range idx {
		if i < r.m.Validators {
			n++
		}
	}
	return n
}

// heights are what must stand still: the still nodes' heights, or the
// chain's tip.
func (r *runner) heights(ctx context.Context, sc scope) []uint64 {
	if sc.chainStill {
		return []uint64{r.tip(ctx)}
	}
	var hs []uint64
	for _, i := range sc.still {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := r.c.clients[i].Status(sctx)
		cancel()
		if err != nil {
			hs = append(hs, 0)
			continue
		}
		hs = append(hs, st.Height)
	}
	return hs
}

func equalHeights(a, b []uint64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// apply turns fault p on (or off) at node i.
func (r *runner) apply(p *Perturbation, i int, on bool) error {
	c := r.c
	switch p.Op {
	case OpKill:
		if on {
			if err := c.signal(i, syscall.SIGKILL); err != nil {
				return err
			}
			<-c.proc(i).done
			return nil
		}
		return c.start(i)
	case OpPause:
		if on {
			return c.signal(i, syscall.SIGSTOP)
		}
		return c.signal(i, syscall.SIGCONT)
	case OpRestart:
		if on {
			c.stop(i, syscall.SIGTERM, 15*time.Second)
			return nil
		}
		return c.start(i)
	case OpDisconnect:
		return c.ns.disconnect(i, on)
	case OpLoss:
		if on {
			return c.ns.loss(i, p.Probability)
		}
		return c.ns.loss(i, 0)
	case OpPartition:
		if !on {
			return c.ns.disconnect(i, false) // flushes the chain
		}
		return c.ns.partition(i, r.otherSide(p, i))
	case OpLatency:
		if on {
			c.proxy.setDelay(i, p.Delay.Duration)
		} else {
			c.proxy.setDelay(i, 0)
		}
		return nil
	}
	return fmt.Errorf("op %q not implemented", p.Op)
}

// otherSide lists the nodes across partition p from node i.
func (r *runner) otherSide(p *Perturbation, i int) []int {
	in := map[int]bool{}
	for _, j := range r.indexes(p.Nodes) {
		in[j] = true
	}
	var other []int
	for j := range r.c.names {
		if in[j] != in[i] {
			other = append(other, j)
		}
	}
	return other
}
