package clixml

// Limits bound what the decoder accepts from a client. Zero fields take the
// defaults below.
type Limits struct {
	// MaxDepth is the deepest nesting of objects, collections and
	// properties. Default 64.
	MaxDepth int
	// MaxBytes is the largest input accepted. Default 64 MiB.
	MaxBytes int
	// MaxObjects caps the number of values (elements, type names and
	// dictionary entries); a <Ref> counts as the size of what it refers to,
	// so shared references cannot expand into a huge tree. Default 100000.
	MaxObjects int
	// MaxStringLen is the longest text of one element, in bytes. Default
	// MaxBytes.
	MaxStringLen int
}

// Default limits.
const (
	DefaultMaxDepth   = 64
	DefaultMaxBytes   = 64 << 20
	DefaultMaxObjects = 100000
)

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxObjects <= 0 {
		l.MaxObjects = DefaultMaxObjects
	}
	if l.MaxStringLen <= 0 {
		l.MaxStringLen = l.MaxBytes
	}
	return l
}
