// Package i18n chooses the language of the messages people read (zh or en)
// and translates them: a golang.org/x/text message catalogue keyed by the
// English format string, and the procedure's vocabulary (states, gates,
// roles, outcomes, release types) in Chinese. English is the key itself, so
// a sentence never goes missing: at worst it stays English.
package i18n

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Lang is a language of the messages: Chinese or English.
type Lang string

// The languages relgate speaks.
const (
	Chinese Lang = "zh"
	English Lang = "en"
)

// Langs lists them, for flags and help.
var Langs = []Lang{Chinese, English}

// Parse reads a --lang value.
func Parse(s string) (Lang, error) {
	switch Lang(s) {
	case Chinese, English:
		return Lang(s), nil
	}
	return "", fmt.Errorf("language %q: want zh or en", s)
}

// Select is the language of a command's messages: flagLang (--lang) when
// set, else $LC_ALL or $LANG when they start with zh or en, else the
// policy's language, else Chinese (the procedure's language).
func Select(flagLang, policyLang string) Lang {
	return SelectEnv(flagLang, policyLang, os.Getenv)
}

// SelectEnv is Select with the environment passed in.
func SelectEnv(flagLang, policyLang string, getenv func(string) string) Lang {
	if l, err := Parse(flagLang); err == nil {
		return l
	}
	for _, k := range []string{"LC_ALL", "LANG"} {
		switch v := getenv(k); {
		case strings.HasPrefix(v, "zh"):
			return Chinese
		case strings.HasPrefix(v, "en"):
			return English
		}
	}
	if policyLang == string(English) {
		return English
	}
	return Chinese
}

// T picks between two sentences written side by side, for text that is not
// worth a catalogue entry (a one-off usage line).
func (l Lang) T(en, zh string) string {
	if l == Chinese {
		return zh
	}
	return en
}

var cat = func() catalog.Catalog {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for k, v := range zh {
		if err := b.SetString(language.Chinese, k, v); err != nil {
			panic(fmt.Sprintf("i18n: catalogue entry %q: %v", k, err)) // a programming error, found by the tests
		}
	}
	return b
}()

// Printer formats messages in l; a key without a translation is formatted
// as it is (English).
func (l Lang) Printer() *message.Printer {
	if l == Chinese {
		return printers[1]
	}
	return printers[0]
}

// printers are made once: making one matches languages, which costs more
// than formatting the sentence; a Printer keeps no state between calls.
var printers = [2]*message.Printer{
	message.NewPrinter(language.English, message.Catalog(cat)),
	message.NewPrinter(language.Chinese, message.Catalog(cat)),
}

// Sprintf formats a catalogue message in l; Terms among args are translated.
func (l Lang) Sprintf(key string, args ...any) string {
	return l.Printer().Sprintf(key, l.args(args)...)
}

func (l Lang) args(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case Term:
			out[i] = a.In(l)
		case Message:
			out[i] = a.In(l)
		case *Message:
			if a != nil {
				out[i] = a.In(l)
			}
		case List:
			out[i] = a.In(l)
		default:
			out[i] = a
		}
	}
	return out
}

// Message is a sentence not yet put into words: its catalogue key (the
// English format string) and arguments. Deciding code builds Messages, keeps
// the English in its stable JSON, and presenters render them in the reader's
// language.
type Message struct {
	Key  string
	Args []any
}

// M makes a Message.
func M(key string, args ...any) Message { return Message{Key: key, Args: args} }

// String is the message in English.
func (m Message) String() string { return m.In(English) }

// In renders the message in l.
func (m Message) In(l Lang) string { return l.Sprintf(m.Key, m.Args...) }

// List is words joined for reading: ", " in English, "、" in Chinese, each
// Term translated.
type List []any

// In joins the list in l.
func (ls List) In(l Lang) string {
	sep := ", "
	if l == Chinese {
		sep = "、"
	}
	var b strings.Builder
	for i, x := range l.args(ls) {
		if i > 0 {
			b.WriteString(sep)
		}
		fmt.Fprint(&b, x)
	}
	return b.String()
}

// Known is s in l when it is a whole sentence of the catalogue without
// arguments (a warning written elsewhere), else s as it is.
func (l Lang) Known(s string) string {
	if l == Chinese {
		if t, ok := zh[s]; ok && !strings.Contains(s, "%") {
			return t
		}
	}
	return s
}
