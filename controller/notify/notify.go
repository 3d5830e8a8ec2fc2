// Package notify delivers notices: it sends each message to its channel (a
// generic JSON webhook, a WeCom group robot, a DingTalk robot, email over
// SMTP with STARTTLS), at a bounded rate per channel, retrying with backoff,
// and records every message in a ledger so that a notice is sent once, even
// across restarts and two replicas. What to send, to whom and when is
// decided elsewhere (package notice); this package only delivers.
package notify

import (
	"context"
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
