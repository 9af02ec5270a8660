// Package migrate loads the embedded, numbered SQL migrations shared in
// shape by the store implementations. Each dialect applies them itself;
// this package only reads and orders them.
package migrate
