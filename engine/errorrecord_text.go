package engine

import "strings"

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

// errorRecordProperty exposes an error record's properties to
// Select-Object, Where-Object and the like.
func errorRecordProperty(r *ErrorRecord, name string) (any, bool) {
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
