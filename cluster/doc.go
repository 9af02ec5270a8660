// Package cluster lets several gateway nodes that share one store serve as
// one: a private certificate authority for the links between nodes
// (mutual TLS), the lookup of the node that owns a shell, and forwarding of
// a client's request to that node.
//
// A request that reaches a node other than its shell's owner is forwarded
// once, over the internal listener of the owner, which authenticates and
// authorizes it again; the first node never serves a shell it does not
// hold. Clients therefore work behind a load balancer without affinity.
package cluster
