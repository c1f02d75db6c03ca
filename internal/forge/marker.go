package forge

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Marker names one kind of comment or issue the project keeps: "pr", "dig",
// "drift/2.platform". It is written as a hidden HTML comment on the first line,
// "<!-- infra-flash:pr {…} -->", and things are found by it alone, never by
// author or text.
type Marker string

var markerName = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:-]{0,99}$`)

func (m Marker) check() error {
	if !markerName.MatchString(string(m)) {
		return fmt.Errorf("marker %q: use lower-case letters, digits and ._/:-", string(m))
	}
	return nil
}

func (m Marker) prefix() string { return "<!-- infra-flash:" + string(m) + " " }

// Stamp is what the marker records about the run that wrote the text: the commit
// it is about and that commit's committer date.
type Stamp struct {
	SHA  string
	Time time.Time
}

type stampJSON struct {
	SHA  string `json:"sha,omitempty"`
	Time string `json:"time,omitempty"`
}

// Line is the marker line for a stamp. JSON escapes < and >, so the stamp can
// never close the HTML comment early.
func (m Marker) Line(s Stamp) string {
	j := stampJSON{SHA: s.SHA}
	if !s.Time.IsZero() {
		j.Time = s.Time.UTC().Format(time.RFC3339)
	}
	data, _ := json.Marshal(j)
	return m.prefix() + string(data) + " -->"
}

// Read returns the stamp of a body that carries the marker on its first line.
func (m Marker) Read(body string) (Stamp, bool) {
	first, _, _ := strings.Cut(body, "\n")
	first = strings.TrimRight(first, "\r")
	if !strings.HasPrefix(first, m.prefix()) || !strings.HasSuffix(first, " -->") {
		return Stamp{}, false
	}
	var j stampJSON
	raw := strings.TrimSuffix(strings.TrimPrefix(first, m.prefix()), " -->")
	if err := json.Unmarshal([]byte(raw), &j); err != nil {
		return Stamp{}, true // ours, from a version that recorded nothing readable
	}
	s := Stamp{SHA: j.SHA}
	s.Time, _ = time.Parse(time.RFC3339, j.Time)
	return s, true
}

// Verdict is what a run does with an existing comment.
type Verdict int

const (
	Write   Verdict = iota // ours is the same commit or newer: write
	Keep                   // the comment is about a newer commit: leave it
	AskHead                // the dates cannot tell: the PR's current head decides
)

// Decide compares our stamp with the one in the comment. The same commit, an
// unknown stamp or a later committer date writes. An earlier or equal date with a
// different commit asks for the PR's head (rebases, clock skew and a branch
// reset to an older commit all make dates lie; the head does not).
func Decide(ours, theirs Stamp) Verdict {
	switch {
	case theirs.SHA == "" || theirs.SHA == ours.SHA:
		return Write
	case ours.Time.IsZero() || theirs.Time.IsZero():
		return AskHead
	case ours.Time.After(theirs.Time):
		return Write
	}
	return AskHead
}
