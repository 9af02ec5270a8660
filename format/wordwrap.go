package format

// Wrap breaks one line of text into lines of at most width cells, at
// spaces where possible, as PowerShell's console writer wraps the text of
// a custom view (an error record's message); a word longer than a line is
// broken where the line ends.
func Wrap(s string, width int) []string {
	if width <= 0 {
		return []string{s}
	}
	return wrap(s, width)
}
