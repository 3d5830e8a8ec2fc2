package deploy_test

import (
	"strings"
	"testing"

	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/document"
)

// FuzzParseArtifact: what a pipeline passes as --artifact, or a deployment
// payload carries, either parses into a reference the schemas accept or is
// refused; it never panics.
func FuzzParseArtifact(f *testing.F) {
	for _, s := range []string{
		"payment-interface=3.2.0@sha256:6cad7cf8ab17f0ccd9dcf96839a56e614f9bee047a891affe7bbc98b3c3ed8f6",
		"a=b@sha256:" + strings.Repeat("0", 64), "=@", "x=1@sha256:", "x=1@@sha256:" + strings.Repeat("f", 64), "x==1@sha256:" + strings.Repeat("f", 64),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := deploy.ParseArtifact(s)
		if err != nil {
			return
		}
		if !document.ItemIDPattern.MatchString(v.Item) || !document.DigestPattern.MatchString(v.Digest) || v.Version == "" || len(v.Version) > 128 {
			t.Fatalf("%q parsed into %+v", s, v)
		}
		if got := v.Item + "=" + v.Version + "@" + v.Digest; got != s {
			t.Fatalf("%q parsed into %+v, which prints as %q", s, v, got)
		}
	})
}
