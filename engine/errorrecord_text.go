package engine

import (
	"strings"

	"github.com/psgate/psgate/format"
)

// String returns the exception message, as ErrorRecord.ToString does.
func (r *ErrorRecord) String() string { return r.Message() }

// CategoryInfo renders the record's category line as PowerShell does:
// "ObjectNotFound: (Get-Foo:String) [], CommandNotFoundException".
func (r *ErrorRecord) CategoryInfo() string {
	var b strings.Builder
	b.WriteString(r.Category.String())
	b.WriteString(": (")
	b.WriteString(r.TargetName)
	b.WriteByte(':')
	b.WriteString(r.TargetType)
	b.WriteString(") [")
	b.WriteString(r.Activity)
	b.WriteString("], ")
	b.WriteString(r.Reason)
	return b.String()
}

// DisplayText renders the record as PowerShell's console shows an error,
// one line per element of the result:
//
//	Get-CsOnlineUser : Cannot find an object with identity 'x' in tenant 'contoso'.
//	    + CategoryInfo          : ObjectNotFound: (x:String) [Get-CsOnlineUser], ItemNotFoundException
//	    + FullyQualifiedErrorId : ObjectNotFound,Get-CsOnlineUser
func (r *ErrorRecord) DisplayText() []string {
	first := r.Message()
	if r.Activity != "" {
		first = r.Activity + " : " + first
	}
	lines := strings.Split(strings.ReplaceAll(first, "\r\n", "\n"), "\n")
	return append(lines,
		"    + CategoryInfo          : "+r.CategoryInfo(),
		"    + FullyQualifiedErrorId : "+r.FullyQualifiedErrorID,
	)
}

// ConsoleLines renders the record as Windows PowerShell 5.1's Out-Default
// writes it on a console width columns wide (the ErrorInstance view,
// $ErrorView NormalView), one WriteErrorLine per element:
//
//	Get-CsOnlineUser : Cannot find an object with identity 'x' in tenant 'contoso'.
//	    + CategoryInfo          : ObjectNotFound: (x:String) [Get-CsOnlineUser], ItemNotFoundException
//	    + FullyQualifiedErrorId : ObjectNotFound,Get-CsOnlineUser
//	(a line holding one space)
//
// The first line is word-wrapped at width; the "+" lines are cut every
// width-6 characters and indented by four spaces, as the view's
// `-split "(.{$width})"` does; the view's closing "`n " gives the last
// line. psgate's commands run from PSRP commands, not script text, so
// there is no "At line:1 char:1" position message, as on a real server
// for a command added with AddCommand.
func (r *ErrorRecord) ConsoleLines(width int) []string {
	if width <= 0 {
		width = 120
	}
	first := r.Message()
	if r.Activity != "" {
		first = r.Activity + " : " + first
	}
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(first, "\r\n", "\n"), "\n") {
		out = append(out, format.Wrap(line, width)...)
	}
	chunk := width - 6
	if chunk < 1 {
		chunk = 1
	}
	for _, info := range []string{
		"+ CategoryInfo          : " + r.CategoryInfo(),
		"+ FullyQualifiedErrorId : " + r.FullyQualifiedErrorID,
	} {
		rs := []rune(info)
		for len(rs) > 0 {
			n := min(chunk, len(rs))
			out = append(out, "    "+string(rs[:n]))
			rs = rs[n:]
		}
	}
	return append(out, " ")
}

// Property returns one of the record's properties as PowerShell exposes
// them to Select-Object, Where-Object and the like: Exception (the
// message), TargetObject, CategoryInfo and FullyQualifiedErrorId.
func (r *ErrorRecord) Property(name string) (any, bool) {
	switch strings.ToLower(name) {
	case "exception":
		return r.Message(), true
	case "targetobject":
		return r.Target, true
	case "categoryinfo":
		return r.CategoryInfo(), true
	case "fullyqualifiederrorid":
		return r.FullyQualifiedErrorID, true
	}
	return nil, false
}
