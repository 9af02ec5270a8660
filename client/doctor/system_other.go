//go:build !windows

package doctor

// DefaultSystem is nil off Windows: the stock PowerShell client checks do
// not apply.
func DefaultSystem() System { return nil }
