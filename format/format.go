package format

import "github.com/psgate/psgate/psobject"

// Default renders objs as PowerShell's Out-Default and Out-String do.
// Scalars are written one per line; objects are shown as a table (four or
// fewer display properties) or a list (five or more), and a new table or
// list starts whenever the type of the objects changes. Nil values are
// skipped and []any and []byte values are enumerated, as the pipeline
// does. Empty input gives "".
func Default(objs []any, opt Options) string {
	f := newFormatter(shapeAuto, nil, opt)
	return f.run(objs)
}

// Table renders objs as Format-Table -AutoSize | Out-String does: one table
// whose columns are props, or the first object's default display
// properties (at most 10 of all its properties when it has no display
// set) when props is empty. Property names may use the * and ? wildcards.
// Scalars in objs are written on lines of their own.
func Table(objs []any, props []string, opt Options) string {
	f := newFormatter(shapeTable, props, opt)
	return f.run(objs)
}

// List renders objs as Format-List | Out-String does: each object as
// "Name : value" lines, showing props (wildcards allowed) or, when props is
// empty, its default display properties. Scalars in objs are written on
// lines of their own.
func List(objs []any, props []string, opt Options) string {
	f := newFormatter(shapeList, props, opt)
	return f.run(objs)
}

type shape uint8

const (
	shapeAuto shape = iota
	shapeTable
	shapeList
)

// Most columns a table of all of an object's properties shows, as
// PowerShell's table view for objects without a display property set.
const maxAllColumns = 10

// Properties a default view can show as a table; more make a list.
const maxTableProps = 4

// formatter turns a stream of values into text, grouping consecutive
// objects into sections (one table or list each).
type formatter struct {
	opt   Options
	shape shape
	props []string
	w     writer
	cur   *section
}

func newFormatter(s shape, props []string, opt Options) *formatter {
	opt = opt.withDefaults()
	return &formatter{opt: opt, shape: s, props: props, w: writer{nl: opt.Newline, color: opt.Color}}
}

func (f *formatter) run(objs []any) string {
	for _, o := range objs {
		f.add(o)
	}
	f.flush()
	return f.w.String()
}

func (f *formatter) add(v any) {
	switch x := v.(type) {
	case nil:
		return
	case []any:
		for _, e := range x {
			f.add(e)
		}
		return
	case []byte:
		for _, b := range x {
			f.add(b)
		}
		return
	case *psobject.Object:
		if x == nil {
			return
		}
		if f.shape == shapeAuto && viewOf(x) != notHelp {
			// Help has a layout of its own, as in PowerShell's views.
			f.flush()
			text, _ := Help(x, f.opt)
			f.w.b.WriteString(text)
			return
		}
	case *psobject.Dict:
		if x == nil {
			return
		}
	}
	if scalar(v) {
		f.raw(psobject.Format(v))
		return
	}
	for _, r := range records(v, f.opt.EnumerationLimit) {
		f.record(r)
	}
}

// raw writes text on lines of its own, inside the current section if one
// is open (PowerShell writes such out-of-band text between the rows).
func (f *formatter) raw(s string) {
	if f.cur != nil {
		f.cur.items = append(f.cur.items, item{isRaw: true, raw: s})
		return
	}
	writeRaw(&f.w, s)
}

func (f *formatter) record(r record) {
	if f.cur != nil && (f.shape != shapeAuto || f.cur.typeName == r.typeName) {
		f.cur.add(r, f)
		return
	}
	f.flush()
	s := f.open(r)
	if s == nil {
		// Nothing to show as properties: show the object's text.
		f.raw(r.obj.String())
		return
	}
	f.cur = s
	s.add(r, f)
}

// open starts the section for the first record r, or returns nil when r
// has no property to show.
func (f *formatter) open(r record) *section {
	if r.view != nil && len(f.props) == 0 && f.shape != shapeList {
		return &section{typeName: r.typeName, cols: r.view.cols}
	}
	names, all := f.columns(r)
	if len(names) == 0 {
		return nil
	}
	list := f.shape == shapeList || f.shape == shapeAuto && len(names) > maxTableProps
	s := &section{typeName: r.typeName, list: list}
	if list {
		return s
	}
	if all && f.shape == shapeTable && len(names) > maxAllColumns {
		names = names[:maxAllColumns]
	}
	s.cols = make([]column, len(names))
	for i, n := range names {
		// The view for hashtable entries aligns every column left.
		s.cols[i] = column{label: n, right: !r.dictEntry && rightAligned(value(r.obj, n))}
	}
	if r.dictEntry && len(f.props) == 0 {
		s.cols[0].fixed = dictNameWidth
	}
	return s
}

// PowerShell's view for hashtable entries gives the Name column 30 cells.
const dictNameWidth = 30

// columns returns the properties to show for r.
func (f *formatter) columns(r record) (names []string, all bool) {
	if len(f.props) > 0 {
		return resolveProps(r.obj, f.props), false
	}
	return defaultProps(r.obj)
}

func (f *formatter) flush() {
	if f.cur == nil {
		return
	}
	s := f.cur
	f.cur = nil
	if s.list {
		renderList(&f.w, s.items, f.opt.Width)
	} else {
		renderTable(&f.w, s.cols, s.items, f.opt.Width)
	}
}

// section is one table or list being collected: tables are sized from all
// their rows before they are written.
type section struct {
	typeName string
	list     bool
	cols     []column // tables only
	items    []item
}

// item is a table row, a list entry or out-of-band text.
type item struct {
	cells  []string // table row, list values
	labels []string // list entry
	isRaw  bool
	raw    string
}

func (s *section) add(r record, f *formatter) {
	limit := f.opt.EnumerationLimit
	if s.list {
		names, _ := f.columns(r)
		it := item{labels: names, cells: make([]string, len(names))}
		for i, n := range names {
			it.cells[i] = text(value(r.obj, n), limit)
		}
		s.items = append(s.items, it)
		return
	}
	it := item{cells: make([]string, len(s.cols))}
	for i, c := range s.cols {
		it.cells[i] = firstLine(text(c.cell(r.obj), limit))
	}
	s.items = append(s.items, it)
}

// writeRaw writes out-of-band text, one line per line of s.
func writeRaw(w *writer, s string) {
	for _, l := range splitLines(s) {
		w.b.WriteString(l)
		w.b.WriteString(w.nl)
	}
}
