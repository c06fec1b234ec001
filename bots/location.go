package bots

import (
	"strings"
	"unicode"
)

// locationIn returns the location a message gives: a shared position, or
// an address in the text. An address is a place word (路, 小区, 号楼, 门口…,
// the desk's keywords in knowledge) with a name before it; the text given
// is the clause that holds it, as the citizen wrote it.
func locationIn(in Inbound, suffixes []string) Location {
	var loc Location
	if in.Location != nil {
		loc = *in.Location
		loc.Unknown = false
	}
	if place := addressIn(in.Text, suffixes); place != "" && loc.Text == "" {
		loc.Text = place
	}
	return loc
}

func addressIn(text string, suffixes []string) string {
	for _, clause := range strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSpace(r) || r == ',' || r == '。'
	}) {
		runes := []rune(clause)
		for _, suf := range suffixes {
			i := strings.Index(clause, suf)
			if i < 0 {
				continue
			}
			// Something must name the place (中山路, 幸福小区, 5号楼): a
			// number, or two characters the last of which is not a word
			// like 在, 我们, 这个 that only points (在路上, 我们小区).
			before := []rune(clause[:i])
			if len(before) == 0 {
				continue
			}
			last := before[len(before)-1]
			if unicode.IsDigit(last) || (len(before) >= 2 && !strings.ContainsRune(pointingChars, last)) {
				return string(runes)
			}
		}
	}
	return ""
}

// pointingChars end phrases that point at a place without naming it.
const pointingChars = "在到去的了我你他她它们家个这那上下里边马到过从往向"
