// Package api is the node's HTTP JSON API: status, blocks, transactions,
// the ledger queries at any height, Server-Sent Events of new blocks,
// Prometheus metrics and a health check; and Client, the Go client the CLI
// uses.
//
// The server depends only on the Backend interface, which the running node
// implements; tests use apitest.Backend, a real ledger on an in-memory store.
// Every request passes one guard (guard.go) first: CORS, the caps on
// requests in flight and on event streams, the bearer token of the write
// endpoints, the body limit (Options).
//
// Threading: handlers run on net/http's goroutines and call Backend from
// any of them, so Backend must be safe for concurrent use. Metrics are
// Prometheus collectors, safe to update from any goroutine.
package api
