// Package errdoc renders the error catalog as the docs/errors.md page.
package errdoc

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/psgate/psgate"
)

// Markdown returns docs/errors.md: every catalog code grouped by area,
// with its message, resolution and wire details. Retired codes stay listed,
// marked retired with the reason, so that a published code keeps its page.
func Markdown() []byte {
	var b bytes.Buffer
	b.WriteString("<!-- Generated from the error catalog by `psgate errors --markdown`; do not edit. -->\n\n")
	b.WriteString("# psgate error codes\n\n")
	b.WriteString("Every failure psgate shows has a stable code `area.reason`. The code travels in WS-Management\n")
	b.WriteString("fault details (element `pg:Error` in namespace `urn:psgate:fault`), in `psgate` CLI output\n")
	b.WriteString("(`error[code]: message` then `fix: resolution`) and in `psgate doctor` reports. Match on the code,\n")
	b.WriteString("never on the message text. Entries with an *original guide section* keep the exact wording of\n")
	b.WriteString("the original connector troubleshooting guide; `{name}` stands for a value filled in at run time.\n")
	b.WriteString("A *retired* code is no longer raised and is never reused; its entry stays for reference.\n\n")
	all := map[psgate.Code]psgate.Entry{}
	byArea := map[string][]psgate.Code{}
	for _, c := range psgate.Codes() {
		all[c] = psgate.Lookup(c)
		byArea[c.Area()] = append(byArea[c.Area()], c)
	}
	for _, e := range psgate.Retired() {
		all[e.Code] = e
		byArea[e.Code.Area()] = append(byArea[e.Code.Area()], e.Code)
	}
	areas := make([]string, 0, len(byArea))
	for a := range byArea {
		areas = append(areas, a)
	}
	sort.Strings(areas)
	for _, area := range areas {
		fmt.Fprintf(&b, "## %s\n\n", area)
		codes := byArea[area]
		slices.Sort(codes)
		for _, c := range codes {
			e := all[c]
			if e.Retired != "" {
				fmt.Fprintf(&b, "### `%s` — %s (retired)\n\n", c, e.Title)
				fmt.Fprintf(&b, "- **Retired:** %s\n", mdEscape(e.Retired))
			} else {
				fmt.Fprintf(&b, "### `%s` — %s\n\n", c, e.Title)
			}
			fmt.Fprintf(&b, "- **Message:** %s\n", mdEscape(e.Message))
			fmt.Fprintf(&b, "- **Resolution:** %s\n", mdEscape(e.Resolution))
			var wire []string
			if e.HTTPStatus != 0 {
				wire = append(wire, fmt.Sprintf("HTTP %d", e.HTTPStatus))
			}
			if e.FaultSubcode != "" {
				wire = append(wire, fmt.Sprintf("fault %s / %s", e.FaultCode, e.FaultSubcode))
			}
			if e.WSManCode != 0 {
				wire = append(wire, fmt.Sprintf("WSManFault code %d (0x%X)", e.WSManCode, e.WSManCode))
			}
			if len(wire) > 0 {
				fmt.Fprintf(&b, "- **On the wire:** %s\n", strings.Join(wire, "; "))
			}
			if e.GuideSection != "" {
				fmt.Fprintf(&b, "- **Original guide section:** %s\n", e.GuideSection)
			}
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

func mdEscape(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "|", "\\|").Replace(s)
}
