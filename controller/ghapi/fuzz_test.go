package ghapi

import "testing"

// FuzzParseRepo: OWNER/NAME from a flag or a URL path; an accepted one
// prints back to itself.
func FuzzParseRepo(f *testing.F) {
	for _, s := range []string{"grid-it/releases", "/grid-it/releases.git", "a/b/c", "/", "", "a//b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRepo(s)
		if err != nil {
			return
		}
		again, err := ParseRepo(r.String())
		if err != nil || again != r || r.Owner == "" || r.Name == "" {
			t.Fatalf("ParseRepo(%q) = %+v; again %+v, %v", s, r, again, err)
		}
	})
}
