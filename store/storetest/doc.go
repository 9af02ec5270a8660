// Package storetest is the conformance suite every store implementation
// must pass: call Run from the implementation's tests.
package storetest
