package bots

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// TicketAlphabet is what ticket ids are made of: no 0/O, 1/I/L, so an id
// read over the phone is not misheard.
const TicketAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// TicketIDLen is the length of every ticket id.
const TicketIDLen = 6

// NewTicketID returns a random id of six characters from TicketAlphabet,
// at least one of them a digit, so it never reads as a word.
func NewTicketID() (string, error) {
	b := make([]byte, TicketIDLen)
	for {
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("ticket id: %w", err)
		}
		hasDigit := false
		for i, x := range b {
			// 256 is a multiple of 32: no modulo bias.
			b[i] = TicketAlphabet[int(x)%len(TicketAlphabet)]
			if b[i] >= '2' && b[i] <= '9' {
				hasDigit = true
			}
		}
		if hasDigit {
			return string(b), nil
		}
	}
}

// IsTicketID reports whether s has the shape of a ticket id.
func IsTicketID(s string) bool {
	if len(s) != TicketIDLen {
		return false
	}
	digit := false
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(TicketAlphabet, s[i]) < 0 {
			return false
		}
		if s[i] >= '2' && s[i] <= '9' {
			digit = true
		}
	}
	return digit
}

// findTicketID finds a ticket id in a message: six id characters standing
// alone (not inside a longer run of letters and digits), any case.
func findTicketID(text string) string {
	up := strings.ToUpper(text)
	run := 0
	for i := 0; i <= len(up); i++ {
		alnum := i < len(up) && (up[i] >= '0' && up[i] <= '9' || up[i] >= 'A' && up[i] <= 'Z')
		if alnum {
			run++
			continue
		}
		if run == TicketIDLen && IsTicketID(up[i-run:i]) {
			return up[i-run : i]
		}
		run = 0
	}
	return ""
}
