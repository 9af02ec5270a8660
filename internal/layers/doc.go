// Package layers holds the test that keeps psgate's import graph pointing
// one way: from the service down to the protocols and the vocabulary,
// never back up, and never sideways between peers (the server wires peers
// together; a package that needs a peer declares an interface for it).
// docs/architecture.md draws the same map.
package layers
