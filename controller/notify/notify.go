// Package notify delivers notices: it sends each message to its channel (a
// generic JSON webhook, a WeCom group robot, a DingTalk robot, email over
// SMTP with STARTTLS), at a bounded rate per channel, retrying with backoff,
// and records every message in a ledger so that a notice is sent once, even
// across restarts and two replicas. What to send, to whom and when is
// decided elsewhere (package notice); this package only delivers.
package notify

import (
	"context"
	"errors"
	"time"
)

// Recipient is a person a notice is for. Robots mention them by Mobile
// when known (WeCom, DingTalk), email sends to Email.
type Recipient struct {
	Login  string `json:"login"`
	Name   string `json:"name,omitempty"`
	Email  string `json:"email,omitempty"`
	Mobile string `json:"mobile,omitempty"`
}

// Message is one notice for one channel, written in that channel's language.
type Message struct {
	// Key identifies the notice: the same Key is delivered once per Channel.
	Key string `json:"key"`
	// Event is the kind of notice (approval-missing, window-starting, …).
	Event string `json:"event"`
	// Channel is the name of the policy's channel it goes to.
	Channel string `json:"channel"`
	// Lang is zh or en.
	Lang    string `json:"lang"`
	Subject string `json:"subject"`
	// Text is the body, plain text with line breaks.
	Text string `json:"text"`
	// Link is where to read more (the release's dashboard page), if any.
	Link       string      `json:"link,omitempty"`
	Release    string      `json:"release,omitempty"`
	Recipients []Recipient `json:"recipients,omitempty"`
	// At is when the event happens or happened.
	At time.Time `json:"at"`
}

// Channel delivers messages to one place.
type Channel interface {
	Send(ctx context.Context, m Message) error
}

// Ledger remembers which notices were sent. It is shared by every replica
// of the server, so a notice claimed by one is not sent by another.
type Ledger interface {
	// Claim reserves key for the caller for lease; false when it was sent
	// already, or another holds an unexpired claim.
	Claim(ctx context.Context, key string, lease time.Duration) (bool, error)
	// Sent records that key was delivered; it is never claimed again.
	Sent(ctx context.Context, key string) error
	// Abandon gives a claim back, so a later attempt may send it.
	Abandon(ctx context.Context, key string) error
}

// Text is a sentence a person reads, in both languages relgate speaks.
type Text struct {
	En string `json:"en"`
	Zh string `json:"zh"`
}

// In is the sentence in lang ("zh" or "en"; anything else is English).
func (t Text) In(lang string) string {
	if lang == "zh" && t.Zh != "" {
		return t.Zh
	}
	return t.En
}

// Class sorts a delivery failure by what the Sender does about it.
type Class int

// The classes of failure.
const (
	// Temporary: the receiver or the network failed; retry with backoff.
	Temporary Class = iota + 1
	// RateLimited: the receiver asked us to slow down; wait, then retry.
	RateLimited
	// Permanent: the message or the configuration is wrong; retrying in this
	// run cannot help (a 4xx answer, no recipient, a refused server).
	Permanent
)

func (c Class) String() string {
	switch c {
	case Temporary:
		return "temporary"
	case RateLimited:
		return "rate-limited"
	case Permanent:
		return "permanent"
	}
	return "unknown"
}

// Error is a delivery or configuration failure of one channel. Its text
// never holds a secret: URLs appear as their host, secrets not at all.
type Error struct {
	Channel string
	Class   Class
	// RetryAfter is how long the receiver asked us to wait, if it said.
	RetryAfter time.Duration
	// Reason says what went wrong and how to fix it, redacted.
	Reason Text
}

func (e *Error) Error() string {
	return "notice channel " + e.Channel + ": " + e.Reason.En
}

// In is the error in lang, for a person.
func (e *Error) In(lang string) string {
	if lang == "zh" {
		return "通知渠道 " + e.Channel + "：" + e.Reason.In(lang)
	}
	return e.Error()
}

// ClassOf is err's class: an *Error's own, else Temporary (an error we
// cannot classify is retried, and never counts as delivered).
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Temporary
}
