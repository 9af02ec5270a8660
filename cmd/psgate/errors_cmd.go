package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/psgate/psgate"
	"github.com/psgate/psgate/internal/errdoc"
)

func newErrorsCmd() *cobra.Command {
	var markdown bool
	cmd := &cobra.Command{
		Use:   "errors [code]",
		Short: "Explain psgate error codes (the catalog)",
		Long: `Print the error catalog: every code psgate shows, with its message and fix. With
a code, print that one; with an area (client, admission, identity...), print
that area's codes.`,
		Example: `  psgate errors
  psgate errors client.not-listening
  psgate errors admission`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if markdown {
				if len(args) > 0 {
					return &usageError{cmd: cmd.CommandPath(), msg: "--markdown prints the whole catalog; leave out the code"}
				}
				_, err := w.Write(errdoc.Markdown())
				return err
			}
			codes := psgate.Codes()
			if len(args) == 1 {
				// A retired code may still come from an older server.
				for _, e := range psgate.Retired() {
					if string(e.Code) == strings.ToLower(strings.TrimSpace(args[0])) {
						fmt.Fprintf(w, "%s  %s (retired)\n  retired: %s\n  message: %s\n  fix:     %s\n\n", e.Code, e.Title, e.Retired, e.Message, e.Resolution)
						return nil
					}
				}
				var err error
				if codes, err = selectCodes(args[0]); err != nil {
					return err
				}
			}
			for _, c := range codes {
				e := psgate.Lookup(c)
				fmt.Fprintf(w, "%s  %s\n  message: %s\n  fix:     %s\n\n", c, e.Title, e.Message, e.Resolution)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&markdown, "markdown", false, "print the catalog as the docs/errors.md page")
	return cmd
}

// selectCodes returns the code named by arg (any case), or the codes of
// an area ("client" or "client.") — or an error naming the closest codes.
func selectCodes(arg string) ([]psgate.Code, error) {
	want := strings.ToLower(strings.TrimSpace(arg))
	var out []psgate.Code
	for _, c := range psgate.Codes() {
		area := strings.TrimSuffix(want, ".") + "."
		if string(c) == want || !strings.Contains(strings.TrimSuffix(want, "."), ".") && strings.HasPrefix(string(c), area) {
			out = append(out, c)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	msg := fmt.Sprintf("unknown error code %q", arg)
	if near := closestCodes(want, 5); len(near) > 0 {
		msg += "; did you mean " + quoteList(near, "or") + "?"
	}
	return nil, &usageError{cmd: "psgate errors", msg: msg + " (psgate errors lists every code)"}
}

// closestCodes returns up to n catalog codes (or areas) near s: those
// whose reason contains s's, then those within a small edit distance of
// it or of its reason part, nearest first.
func closestCodes(s string, n int) []string {
	area, reason, hasDot := strings.Cut(s, ".")
	if !hasDot {
		reason = s
		area = ""
	}
	type cand struct {
		code string
		dist int
	}
	var cands []cand
	if !hasDot {
		seen := map[string]bool{}
		for _, c := range psgate.Codes() {
			if a := c.Area(); !seen[a] {
				seen[a] = true
				if d := editDistance(s, a); d <= 2 {
					cands = append(cands, cand{a, d})
				}
			}
		}
	}
	for _, c := range psgate.Codes() {
		code := string(c)
		cArea, cReason, _ := strings.Cut(code, ".")
		d := editDistance(s, code)
		if rd := editDistance(reason, cReason); rd < d {
			d = rd
			if area != "" && area != cArea {
				d++ // the right reason in another area is a little further
			}
		}
		switch {
		case reason != "" && strings.Contains(cReason, reason):
			d = 0
		case !hasDot && s == cArea:
			d = 1
		}
		limit := max(2, len(reason)/3)
		if d <= limit {
			cands = append(cands, cand{code, d})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].dist < cands[j].dist })
	var out []string
	for _, c := range cands {
		if len(out) == n {
			break
		}
		out = append(out, c.code)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
