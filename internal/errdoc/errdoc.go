// Package errdoc renders the error catalog as the docs/errors.md page.
package errdoc

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/psgate/psgate"
)

// Markdown returns docs/errors.md: every catalog code grouped by area,
// with its message, resolution and wire details.
func Markdown() []byte {
	var b bytes.Buffer
	b.WriteString("<!-- Generated from the error catalog by `psgate errors --markdown`; do not edit. -->\n\n")
	b.WriteString("# psgate error codes\n\n")
	b.WriteString("Every failure psgate shows has a stable code `area.reason`. The code travels in WS-Management\n")
	b.WriteString("fault details (element `pg:Error` in namespace `urn:psgate:fault`), in `psgate` CLI output\n")
	b.WriteString("(`error[code]: message` then `fix: resolution`) and in `psgate doctor` reports. Match on the code,\n")
	b.WriteString("never on the message text. Entries with an *original guide section* keep the exact wording of\n")
	b.WriteString("the original connector troubleshooting guide; `{name}` stands for a value filled in at run time.\n\n")
	byArea := map[string][]psgate.Code{}
	for _, c := range psgate.Codes() {
		byArea[c.Area()] = append(byArea[c.Area()], c)
	}
	areas := make([]string, 0, len(byArea))
	for a := range byArea {
		areas = append(areas, a)
	}
	sort.Strings(areas)
	for _, area := range areas {
		fmt.Fprintf(&b, "## %s\n\n", area)
		for _, c := range byArea[area] {
			e := psgate.Lookup(c)
			fmt.Fprintf(&b, "### `%s` — %s\n\n", c, e.Title)
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
