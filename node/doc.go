// Package node wires inferd together: configuration, the home directory
// layout, key files, and (as the node grows) the lifecycle of a running
// node, its HTTP API and the devnet launcher. It is the one package that
// imports everything; nothing but cmd/inferd imports it.
package node
