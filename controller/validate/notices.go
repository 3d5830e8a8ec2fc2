package validate

import (
	"fmt"

	"github.com/relgate/relgate/controller/document"
)

// MaxNoticeChannels bounds the channels of a policy: every notice is
// rendered and claimed once per channel, so the bound keeps one run small.
const MaxNoticeChannels = 20

// checkNotices reports the problems of the policy's notice channels at
// their fields. The schema checks each field's
// shape; these are the rules across fields: what a channel of each kind
// needs to be delivered at all, so a mistake shows at validate and not as a
// notice that silently never leaves.
func (c *checker) checkNotices() {
	n := c.p.Notices
	if n == nil {
		return
	}
	const f = document.PolicyPath
	const clause = "R-5.1.2, R-5.1.7, R-8"
	say := func(en, zh string, args ...any) string {
		if c.lang == "en" {
			return fmt.Sprintf(en, args...)
		}
		return fmt.Sprintf(zh, args...)
	}
	if len(n.Channels) > MaxNoticeChannels {
		c.at(f, clause, "notices", say("%d notice channels are more than %d; send several events to one channel with its events list",
			"通知渠道有 %d 个，超过上限 %d；可用 events 列表把多种事件发到同一渠道", len(n.Channels), MaxNoticeChannels), "notices", "channels")
	}
	seen := map[string]int{}
	for i, ch := range n.Channels {
		field := func(s ...string) []string { return append([]string{"notices", "channels", idx(i)}, s...) }
		if j, dup := seen[ch.Name]; dup {
			c.at(f, clause, "notices", say("channel %s is listed twice (also notices.channels[%d]); the notice ledger keys by the name, so give each channel a name of its own",
				"渠道 %s 重复列出（另见 notices.channels[%d]）；通知台账以名称为键，请为每个渠道单独命名", ch.Name, j), field("name")...)
		} else {
			seen[ch.Name] = i
		}
		switch ch.Kind {
		case document.ChannelWebhook, document.ChannelWeCom, document.ChannelDingTalk:
			if ch.URLEnv == "" {
				c.at(f, clause, "notices", say("a %s channel needs urlEnv: the environment variable that holds its URL (never the URL itself: a robot's URL carries its key)",
					"%s 渠道须填写 urlEnv：保存其地址的环境变量名（不要写地址本身：机器人地址含密钥）", ch.Kind), field("urlEnv")...)
			}
			if ch.SMTP != nil {
				c.at(f, clause, "notices", say("smtp is for email channels only; remove it from this %s channel", "smtp 仅用于 email 渠道；请从此 %s 渠道中删除", ch.Kind), field("smtp")...)
			}
		case document.ChannelEmail:
			if ch.SMTP == nil {
				c.at(f, clause, "notices", say("an email channel needs smtp: the mail server's address and the sender (from)",
					"email 渠道须填写 smtp：邮件服务器地址和发件人（from）"), field("smtp")...)
			} else if ch.SMTP.Username != "" && ch.SecretEnv == "" {
				c.at(f, clause, "notices", say("smtp.username is set but secretEnv is not: name the environment variable that holds the SMTP password",
					"已填写 smtp.username 但没有 secretEnv：请写明保存 SMTP 密码的环境变量名"), field("secretEnv")...)
			}
			if ch.URLEnv != "" {
				c.at(f, clause, "notices", say("urlEnv is for webhook and robot channels; an email channel sends through smtp",
					"urlEnv 用于 webhook 和机器人渠道；email 渠道通过 smtp 发送"), field("urlEnv")...)
			}
		}
		if ch.Kind == document.ChannelDingTalk && ch.SecretEnv == "" {
			// A robot without signing accepts a message from anyone who has
			// its URL, and its keyword or IP rules are weaker; relgate signs
			// every message, so it refuses a robot it cannot sign for.
			c.at(f, clause, "notices", say("a dingtalk channel needs secretEnv: the variable holding the robot's signing secret (SEC…); turn on signing (加签) for the robot, since a robot without it takes messages from anyone who learns its URL",
				"dingtalk 渠道须填写 secretEnv：保存机器人加签密钥（SEC…）的环境变量名；请为机器人开启加签，未加签的机器人接受任何得知其地址者的消息"), field("secretEnv")...)
		}
		if (ch.Kind == document.ChannelWebhook || ch.Kind == document.ChannelWeCom) && ch.SecretEnv != "" {
			c.at(f, clause, "notices", say("secretEnv is for dingtalk (signing secret) and email (SMTP password); a %s channel does not use it",
				"secretEnv 用于 dingtalk（加签密钥）和 email（SMTP 密码）；%s 渠道不使用它", ch.Kind), field("secretEnv")...)
		}
	}
}
