package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const deployExamples = "../../examples/deploy-gate"

// TestDeployGateExamples runs the deploy-check command line of every
// pipeline example (GitLab, Jenkins, Argo CD, GitHub Actions) as the
// pipeline would, its variables filled with a build of REL-2026-0042, against
// the example's lawful history: the tested digest passes, another is refused.
// The YAML examples must parse, and each puts the check before the deployment.
func TestDeployGateExamples(t *testing.T) {
	r := deployRepo(t, false)
	const digest = "sha256:6cad7cf8ab17f0ccd9dcf96839a56e614f9bee047a891affe7bbc98b3c3ed8f6"
	vars := map[string]string{"RELEASE_ID": "REL-2026-0042", "ITEM": "payment-interface", "CI_COMMIT_TAG": "3.2.0",
		"VERSION": "3.2.0", "IMAGE_DIGEST": digest, "ARTIFACT": "payment-interface=3.2.0@" + digest}
	line := regexp.MustCompile(`relgate deploy-check [^'\n]*`)
	for _, name := range []string{"gitlab-ci.yml", "Jenkinsfile", "argocd-presync-job.yaml", "github-deploy.yml"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(deployExamples, name))
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			if strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml") {
				var doc map[string]any
				if err := yaml.Unmarshal(b, &doc); err != nil {
					t.Fatalf("%s is not YAML: %v", name, err)
				}
				shape(t, name, doc)
			}
			cmds := line.FindAllString(text, -1)
			if len(cmds) != 1 {
				t.Fatalf("%s: %d deploy-check command lines, want 1", name, len(cmds))
			}
			if check, deploy := strings.Index(text, "relgate deploy-check"), strings.Index(text, "deploy.sh"); deploy >= 0 && check > deploy {
				t.Errorf("%s deploys before it checks", name)
			}
			args := shellWords(t, strings.TrimPrefix(cmds[0], "relgate "), vars)
			for i, a := range args {
				if a == "--repo" && i+1 < len(args) {
					args[i+1] = r.Dir
				}
			}
			if code, out, errs := run(t, append(args, "--now", inWindow42)...); code != 0 {
				t.Errorf("%s: %v: exit %d, want 0\n%s%s", name, args, code, out, errs)
			}
			bad := shellWords(t, strings.ReplaceAll(strings.TrimPrefix(cmds[0], "relgate "), "IMAGE_DIGEST", "OTHER_DIGEST"), map[string]string{
				"RELEASE_ID": "REL-2026-0042", "ITEM": "payment-interface", "CI_COMMIT_TAG": "3.2.0", "VERSION": "3.2.0",
				"OTHER_DIGEST": "sha256:" + strings.Repeat("1", 64), "ARTIFACT": "payment-interface=3.2.0@sha256:" + strings.Repeat("1", 64)})
			for i, a := range bad {
				if a == "--repo" && i+1 < len(bad) {
					bad[i+1] = r.Dir
				}
			}
			if code, _, _ := run(t, append(bad, "--now", inWindow42)...); code != 1 {
				t.Errorf("%s with an untested digest: exit %d, want 1", name, code)
			}
		})
	}
}

// shape checks what makes each pipeline wait for the check.
func shape(t *testing.T, name string, doc map[string]any) {
	t.Helper()
	get := func(m any, keys ...string) any {
		for _, k := range keys {
			mm, ok := m.(map[string]any)
			if !ok {
				return nil
			}
			m = mm[k]
		}
		return m
	}
	switch name {
	case "gitlab-ci.yml":
		needs, _ := get(doc, "deploy-production", "needs").([]any)
		found := false
		for _, n := range needs {
			found = found || n == "relgate-deploy-check"
		}
		if !found {
			t.Errorf("the GitLab deploy job does not need relgate-deploy-check: %v", needs)
		}
	case "argocd-presync-job.yaml":
		if get(doc, "kind") != "Job" || get(doc, "metadata", "annotations", "argocd.argoproj.io/hook") != "PreSync" ||
			get(doc, "spec", "backoffLimit") != 0 || get(doc, "spec", "template", "spec", "restartPolicy") != "Never" {
			t.Errorf("the Argo CD hook is not a PreSync Job that fails at once: %v", doc)
		}
	case "github-deploy.yml":
		if get(doc, "jobs", "deploy", "environment") != "production" {
			t.Errorf("the GitHub deploy job is not in the production environment")
		}
	}
}

// shellWords splits a command line as sh would for these examples: words,
// double quotes, $VAR and ${VAR}; an unknown variable fails the test.
func shellWords(t *testing.T, s string, vars map[string]string) []string {
	t.Helper()
	ref := regexp.MustCompile(`\$\{?([A-Z_]+)\}?`)
	s = ref.ReplaceAllStringFunc(s, func(m string) string {
		k := ref.FindStringSubmatch(m)[1]
		v, ok := vars[k]
		if !ok {
			t.Fatalf("unknown variable %s in %q", k, s)
		}
		return v
	})
	var out []string
	var cur strings.Builder
	quoted, inWord := false, false
	for _, c := range s {
		switch {
		case c == '"':
			quoted, inWord = !quoted, true
		case c == ' ' && !quoted:
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}
