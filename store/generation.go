package store

import "context"

// Generations tells a cache whether the directory changed.
type Generations interface {
	// DirectoryGeneration returns a number that grows, in the same
	// transaction, with every change to a tenant (its policy included), a
	// user, a role or a role assignment, whoever made it: this node,
	// another node sharing the store, or SQL typed by hand. Two equal
	// answers mean no such change was committed between them.
	DirectoryGeneration(ctx context.Context) (int64, error)
}
