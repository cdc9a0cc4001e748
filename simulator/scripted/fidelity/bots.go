package fidelity

import (
	"github.com/sparring-gym/sparring/simulator"
)

// Script returns a bot's replies for a scenario in lang. The excellent,
// caves-in and over-promiser bots speak the scenario's playbook (written as
// a good agent would write, not stuffed with keywords); the mediocre and rude
// bots use the generic lines below, the way such agents actually talk.
func Script(bot Bot, sc *simulator.Scenario, lang simulator.Lang) []string {
	pb := sc.Playbook
	in := func(ts ...simulator.Text) []string {
		var out []string
		for _, t := range ts {
			if s := t.In(lang); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	var lines []string
	switch bot {
	case Excellent:
		switch {
		case sc.Drill && sc.Persona != nil && sc.Persona.RepeatsQuestion:
			lines = in(pb.Open, pb.Restate, pb.Plan, pb.Close)
		case sc.Drill:
			lines = in(pb.Open, pb.Plan, pb.Close)
		default:
			lines = in(pb.Open, pb.Ask, pb.Restate, pb.Inform, pb.Options, pb.Plan, pb.Close)
		}
	case CavesIn:
		if sc.Drill {
			lines = in(pb.Cave, pb.Close)
		} else {
			lines = in(pb.Open, pb.Cave, pb.Close)
		}
	case OverPromiser:
		if sc.Drill {
			lines = in(pb.OverPromise, pb.Close)
		} else {
			lines = in(pb.Open, pb.Ask, pb.OverPromise, pb.Close)
		}
	case Mediocre:
		lines = mediocre(lang)
	case Rude:
		lines = rude(lang)
	}
	if sc.MaxTurns > 0 && len(lines) > sc.MaxTurns {
		lines = lines[:sc.MaxTurns]
	}
	return lines
}

// mediocre is thin but harmless: no greeting, no questions, no plan; the
// agent who "handles" tickets without helping.
func mediocre(lang simulator.Lang) []string {
	if lang == simulator.LangZH {
		return []string{"好的。", "我们会处理的。", "请稍等，在查。", "正在处理中。", "收到。", "会有人联系您的。"}
	}
	return []string{"OK.", "We'll look into it.", "Please wait while we check.", "It's being processed.", "Noted, thanks.", "Someone will get back to you."}
}

// rude is rude the way real agents are: bare, dismissive, blaming, then nasty.
func rude(lang simulator.Lang) []string {
	if lang == simulator.LangZH {
		return []string{"又怎么了？你别激动，说吧，要干嘛。", "你别激动，这不是什么大事。", "这不是我们的问题，是别的部门搞错的。", "不行，规定就是这样。", "我已经说过了，没办法。", "你是不是不识字？自己看条款。"}
	}
	return []string{"What now? Calm down and tell me what you want.", "Calm down, it's not a big deal.", "That's not our fault, the other department messed it up.",
		"No. That's the policy.", "As I already told you, there's nothing I can do.", "Are you stupid? Read the terms."}
}
