package format

// Stream formats values as they arrive, as Default does for a whole
// slice: consecutive objects of one type share one table or list, whose
// column widths come from all its rows. Text returns what is complete so
// far; Close ends the last section. A very long section is written in
// parts of MaxSectionRows rows, each with its header, so memory stays
// bounded.
type Stream struct {
	f *formatter
}

// MaxSectionRows bounds the rows a Stream holds before writing a section.
const MaxSectionRows = 50000

// NewStream returns a Stream with the default view.
func NewStream(opt Options) *Stream {
	return &Stream{f: newFormatter(shapeAuto, nil, opt)}
}

// Add formats v.
func (s *Stream) Add(v any) {
	s.f.add(v)
	if s.f.cur != nil && len(s.f.cur.items) >= MaxSectionRows {
		s.f.flush()
	}
}

// Text returns the text of the sections completed since the last call.
func (s *Stream) Text() string {
	t := s.f.w.String()
	s.f.w.b.Reset()
	return t
}

// Close ends the open section and returns the remaining text.
func (s *Stream) Close() string {
	s.f.flush()
	return s.Text()
}
