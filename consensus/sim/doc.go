// Package sim is a deterministic simulator for the consensus engine: N
// validators with random stakes drive real consensus.Machines over a
// simulated network in virtual time. The network delays, drops, duplicates
// and reorders messages and may partition the validators until a heal time;
// honest validators crash and restart from an in-memory twin of the WAL;
// Byzantine validators (less than 1/3 of stake unless a test asks otherwise)
// equivocate, propose two blocks, go silent or forget their lock.
//
// One seed fixes a run. After every event the simulator checks agreement (no
// two honest nodes commit different blocks at a height), validity (every
// committed block was proposed as a valid block) and that no honest node signs
// two different messages for one height, round and step; after the heal every
// honest node must commit the required heights within a bounded virtual time.
//
// Everything runs on the caller's goroutine; runs of different seeds are
// independent and may run in parallel.
package sim
