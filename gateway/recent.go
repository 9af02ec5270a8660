package gateway

// recentIDs remembers the last few finished command IDs of a shell, so
// that a Signal or Send a client sends just after a command ended is
// accepted rather than refused as an unknown command. Clients send those
// at once (pywinrm, pypsrp and Windows PowerShell signal right after the
// last Receive), so a short memory is enough, and a shell that runs
// commands for hours holds no more than this. The ring is allocated on
// the first finished command: an idle shell pays nothing.
type recentIDs struct {
	ids  *[recentFinished]string
	next int
}

const recentFinished = 64

// add remembers id, forgetting the oldest.
func (r *recentIDs) add(id string) {
	if r.ids == nil {
		r.ids = new([recentFinished]string)
	}
	r.ids[r.next] = id
	r.next = (r.next + 1) % recentFinished
}

// has reports whether id is among the remembered ones.
func (r *recentIDs) has(id string) bool {
	if r.ids == nil {
		return false
	}
	for _, x := range r.ids {
		if x == id && x != "" {
			return true
		}
	}
	return false
}
