// Package format renders psgate objects as text the way Windows PowerShell
// 5.1's default formatter does (Out-Default, Out-String, Format-Table,
// Format-List), for WinRS command output and the psgate CLI.
//
// The layout follows PowerShell's console formatter:
//
//   - Scalars (strings, numbers, booleans, dates, ...) are written one per
//     line. An object with no properties is written as its ToString text.
//   - An object is shown through its default display property set
//     (psobject.Object.DisplayProps) or, without one, all its properties:
//     four or fewer as a table, five or more as a list.
//   - A table starts with an empty line, then the header, a line of dashes
//     under each label and one row per object, and ends with two empty
//     lines. Columns are sized to their content (as -AutoSize does),
//     separated by one space; numeric and boolean columns are
//     right-aligned, header included. Cells too wide for the line are cut
//     with "...", widest columns first.
//   - A list starts with two empty lines; each object is written as
//     "Name : value" lines with the names padded to the longest one and is
//     followed by an empty line; the list ends with two more empty lines.
//   - When the type of the objects changes, the current table or list ends
//     and a new one starts, with a new header.
//
// Values are rendered with psobject.Format; collections show at most
// Options.EnumerationLimit items, as $FormatEnumerationLimit does. Lines end
// with "\r\n" unless Options.Newline says otherwise, and carry no trailing
// spaces.
package format
